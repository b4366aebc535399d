//! Reading a dataset file row by row: CSV in UTF-8 (with or without BOM) or GB18030/GBK,
//! and .xlsx (the first sheet). Nothing holds the whole file: CSV is read record by record
//! through a 64 KiB buffer (`Records`: one SIMD UTF-8 check a line, split at commas,
//! quoted fields by an RFC 4180 state machine), .xlsx cell by cell.
//!
//! Encoding: a UTF-8 BOM means UTF-8; otherwise the first 1 MiB decides — valid UTF-8
//! (a character cut at the end of the sample allowed) means UTF-8, anything else is
//! decoded as GB18030 (a superset of GBK and GB2312), and if the sample is not valid
//! GB18030 either the file is refused. Bytes further on that do not decode make their row
//! a [`crate::ProblemKind::MalformedRow`].

use crate::FileError;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::path::Path;

/// Something that can be read and rewound (an .xlsx file is a zip archive).
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// A dataset file to read.
pub enum Input<'a> {
    /// CSV text in any supported encoding.
    Csv(Box<dyn Read + 'a>),
    /// An .xlsx workbook; the first sheet is read.
    Xlsx(Box<dyn ReadSeek + 'a>),
}

impl Input<'static> {
    /// Open a file: `.xlsx` by its extension or its zip signature, CSV otherwise.
    pub fn open(path: &Path) -> Result<Input<'static>, FileError> {
        let open = |p: &Path| {
            File::open(p).map_err(|source| FileError::Open {
                path: p.to_path_buf(),
                source,
            })
        };
        let mut file = open(path)?;
        let mut magic = [0u8; 4];
        let n = read_full(&mut file, &mut magic).map_err(|source| FileError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let is_xlsx = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
            || (n == 4 && &magic == b"PK\x03\x04");
        let file = open(path)?;
        Ok(if is_xlsx {
            Input::Xlsx(Box::new(BufReader::new(file)))
        } else {
            Input::Csv(Box::new(file))
        })
    }
}

impl<'a> Input<'a> {
    pub fn csv(reader: impl Read + 'a) -> Input<'a> {
        Input::Csv(Box::new(reader))
    }

    pub fn xlsx(reader: impl Read + Seek + 'a) -> Input<'a> {
        Input::Xlsx(Box::new(reader))
    }

    /// Bytes in memory (an upload): .xlsx if they start with the zip signature.
    pub fn bytes(data: &'a [u8]) -> Input<'a> {
        if data.starts_with(b"PK\x03\x04") {
            Input::Xlsx(Box::new(Cursor::new(data)))
        } else {
            Input::Csv(Box::new(data))
        }
    }
}

/// How a file was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Gb18030,
    Xlsx,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Gb18030 => "GB18030",
            Encoding::Xlsx => "xlsx",
        }
    }
}

/// Receives a file's rows.
pub(crate) trait RowSink {
    /// The header row (row 1, or the first non-empty row of a sheet).
    fn header(&mut self, header: &[&str]) -> Result<(), FileError>;
    /// A data row, with what is wrong with it as a row.
    fn row(&mut self, row: u64, record: &Record<'_>, issue: Option<RowIssue>);
    /// Data row `row`, which [`RowSink::row`] will get soon, after [`RowSink::touch`]: a
    /// chance to work out what checking it will look up. A hint: rows that come to
    /// [`RowSink::row`] without it must be checked the same.
    fn prefetch(&mut self, _row: u64, _record: &Record<'_>) {}
    /// Start loading what the rows given to [`RowSink::prefetch`] will look up, all at
    /// once, so that their cache misses overlap.
    fn touch(&mut self) {}
}

/// One row's cells: slices of one text, each cell ending at its entry of `ends` and
/// starting one byte after the previous cell's end (past the separator). A CSV line
/// without quotes is its own text, so its cells are never copied.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record<'a> {
    text: &'a str,
    ends: &'a [usize],
}

impl<'a> Record<'a> {
    /// The number of cells.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Cell `i`, if the row has it.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |e| e + 1),
            None => 0,
        };
        self.text.get(start..end)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let r = *self;
        (0..r.len()).map(move |i| r.get(i).unwrap_or(""))
    }
}

/// Rows read ahead of checking.
const READ_AHEAD: usize = 16;

/// A few records copied one after another into one text, for [`READ_AHEAD`].
#[derive(Default)]
struct Batch {
    text: String,
    /// Cell ends, each relative to its record's start.
    ends: Vec<usize>,
    /// Each record: where its text and its ends start, and whether bytes did not decode.
    records: Vec<(usize, usize, bool)>,
}

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.records.clear();
    }

    fn len(&self) -> usize {
        self.records.len()
    }

    fn push(&mut self, rec: Record<'_>, bad: bool) {
        self.records.push((self.text.len(), self.ends.len(), bad));
        self.text.push_str(rec.text);
        self.ends.extend_from_slice(rec.ends);
    }

    fn iter(&self) -> impl Iterator<Item = (Record<'_>, bool)> {
        self.records.iter().enumerate().map(|(i, &(text_at, ends_at, bad))| {
            let (text_end, ends_end) = self
                .records
                .get(i + 1)
                .map_or((self.text.len(), self.ends.len()), |n| (n.0, n.1));
            let rec = Record {
                text: self.text.get(text_at..text_end).unwrap_or(""),
                ends: self.ends.get(ends_at..ends_end).unwrap_or(&[]),
            };
            (rec, bad)
        })
    }
}

/// Cells written into one owned text (quoted CSV fields, .xlsx cells), for a [`Record`].
#[derive(Default)]
struct OwnedRecord {
    text: String,
    ends: Vec<usize>,
}

impl OwnedRecord {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Ends the cell being written.
    fn end_cell(&mut self) {
        self.ends.push(self.text.len());
        self.text.push(',');
    }

    fn push_cell(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.end_cell();
    }

    fn record(&self) -> Record<'_> {
        Record {
            text: &self.text,
            ends: &self.ends,
        }
    }
}

/// What makes a row malformed as a row (its cells are still checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowIssue {
    /// Some bytes did not decode (replaced by U+FFFD).
    BadBytes,
    /// Fewer cells than the header (CSV only: .xlsx omits trailing empty cells).
    Short { cells: usize, header: usize },
    /// More non-empty cells than the header (often an unquoted comma).
    Long { cells: usize, header: usize },
}

/// Title rows tolerated above the header.
const MAX_TITLE_ROWS: u64 = 5;

/// A row that can only be a title: one non-empty cell at most.
fn is_title(cells: &[&str]) -> bool {
    cells.iter().filter(|c| !c.trim().is_empty()).count() <= 1
}

/// Rows read and the encoding found.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadStats {
    pub rows: u64,
    pub encoding: Encoding,
}

const SAMPLE: usize = 1 << 20;

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Read every row of `input` into `sink`.
pub(crate) fn drive(input: Input<'_>, sink: &mut dyn RowSink) -> Result<ReadStats, FileError> {
    match input {
        Input::Csv(r) => drive_csv(r, sink),
        Input::Xlsx(r) => drive_xlsx(r, sink),
    }
}

fn sniff(sample: &[u8], full: bool) -> Result<Encoding, FileError> {
    if sample.starts_with(b"\xEF\xBB\xBF") {
        return Ok(Encoding::Utf8Bom);
    }
    if sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF") {
        return Err(FileError::Undecodable("文件是 UTF-16 编码".into()));
    }
    if sample.starts_with(b"PK\x03\x04") {
        return Err(FileError::Undecodable(
            "文件是 .xlsx(zip)格式,请按 .xlsx 导入".into(),
        ));
    }
    if sample.contains(&0) {
        return Err(FileError::Undecodable(
            "文件含有二进制内容,不是 CSV 文本".into(),
        ));
    }
    match std::str::from_utf8(sample) {
        Ok(_) => return Ok(Encoding::Utf8),
        Err(e) if e.error_len().is_none() && full => return Ok(Encoding::Utf8),
        Err(_) => {}
    }
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = vec![
        0u8;
        decoder
            .max_utf8_buffer_length_without_replacement(sample.len())
            .unwrap_or(sample.len() * 3 + 16)
    ];
    let (result, _, _) = decoder.decode_to_utf8_without_replacement(sample, &mut out, !full);
    match result {
        encoding_rs::DecoderResult::Malformed(_, _) => Err(FileError::Undecodable(
            "既不是有效的 UTF-8,也不是有效的 GB18030/GBK".into(),
        )),
        _ => Ok(Encoding::Gb18030),
    }
}

fn drive_csv(
    mut reader: Box<dyn Read + '_>,
    sink: &mut dyn RowSink,
) -> Result<ReadStats, FileError> {
    let mut sample = vec![0u8; SAMPLE];
    let n = read_full(&mut reader, &mut sample)?;
    sample.truncate(n);
    if sample.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    let encoding = sniff(&sample, n == SAMPLE)?;
    let skip = if encoding == Encoding::Utf8Bom { 3 } else { 0 };
    let head = Cursor::new(sample).chain(reader);
    let mut head = head;
    if skip > 0 {
        let mut bom = [0u8; 3];
        read_full(&mut head, &mut bom)?;
    }
    let text: Box<dyn Read + '_> = if encoding == Encoding::Gb18030 {
        Box::new(Gb18030Reader::new(head))
    } else {
        Box::new(head)
    };
    let mut lines = Records::new(
        io::BufReader::with_capacity(1 << 16, text),
        encoding == Encoding::Gb18030,
    );
    let mut row = 0u64;
    let mut header_len: Option<usize> = None;
    let mut header_row = 0u64;
    while header_len.is_none() {
        let result = lines.next_record(|rec, _| {
            row += 1;
            let header: Vec<&str> = rec.iter().collect();
            match sink.header(&header) {
                Err(_) if is_title(&header) && row < MAX_TITLE_ROWS => {
                    // A title row above the header (行政许可信息表): try the next row.
                    Ok(())
                }
                other => {
                    header_len = Some(header.len());
                    header_row = row;
                    other
                }
            }
        })?;
        match result {
            None => break,
            Some(r) => r?,
        }
    }
    if let Some(width) = header_len {
        // Rows are read a batch ahead: the sink starts the cache misses of the whole
        // batch (its index lookups) before checking the first row.
        let mut batch = Batch::default();
        loop {
            batch.clear();
            while batch.len() < READ_AHEAD {
                if lines.next_record(|rec, bad| batch.push(rec, bad))?.is_none() {
                    break;
                }
            }
            if batch.len() == 0 {
                break;
            }
            for (i, (rec, _)) in batch.iter().enumerate() {
                sink.prefetch(row + 1 + i as u64, &rec);
            }
            sink.touch();
            for (rec, bad) in batch.iter() {
                row += 1;
                let issue = if bad {
                    Some(RowIssue::BadBytes)
                } else if rec.len() < width {
                    Some(RowIssue::Short {
                        cells: rec.len(),
                        header: width,
                    })
                } else if rec.len() > width && rec.iter().skip(width).any(|c| !c.trim().is_empty())
                {
                    Some(RowIssue::Long {
                        cells: rec.len(),
                        header: width,
                    })
                } else {
                    None
                };
                sink.row(row, &rec, issue);
            }
        }
    }
    if header_len.is_none() || row <= header_row {
        return Err(FileError::Empty);
    }
    Ok(ReadStats {
        rows: row - header_row,
        encoding,
    })
}

/// CSV records read line by line. A line without a double quote (the usual export) is
/// validated as UTF-8 once and split at commas, which are ASCII and so always fall on
/// character boundaries; a line with quotes goes through a small RFC 4180 state machine
/// that follows a quoted field across line breaks. Blank lines are skipped; `\r\n` and
/// `\n` both end a line. A quote inside an unquoted field is kept as a character.
struct Records<R> {
    inner: R,
    line: Vec<u8>,
    /// Where the cells of an unquoted line end.
    ends: Vec<usize>,
    /// The cells of a line with quotes, or with bytes that did not decode.
    owned: OwnedRecord,
    /// Whether U+FFFD marks a byte the decoder could not read (GB18030 input). In UTF-8
    /// input bad bytes are caught by the UTF-8 check, and scanning Chinese text for
    /// U+FFFD is slow (its last byte is common), so the scan is skipped there.
    replacement_means_bad: bool,
}

/// The cell ends of a line split at commas into `ends`; `false` (and `ends` unusable) if
/// the line has a double quote. Eight bytes at a time: a word's commas and quotes are
/// found with a few arithmetic operations, then each comma by its bit.
#[inline]
fn split_plain(text: &str, ends: &mut Vec<usize>) -> bool {
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    /// The high bit of each byte of `v` that is zero (exactly, no false positives).
    #[inline]
    fn zero_bytes(v: u64) -> u64 {
        !(((v & LOW) + LOW) | v | LOW)
    }
    ends.clear();
    let bytes = text.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        if zero_bytes(v ^ 0x2222_2222_2222_2222) != 0 {
            return false;
        }
        let mut commas = zero_bytes(v ^ 0x2C2C_2C2C_2C2C_2C2C);
        while commas != 0 {
            ends.push(at + (commas.trailing_zeros() / 8) as usize);
            commas &= commas - 1;
        }
        at += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == b',' {
            ends.push(at + i);
        } else if b == b'"' {
            return false;
        }
    }
    ends.push(text.len());
    true
}

impl<R: io::BufRead> Records<R> {
    fn new(inner: R, replacement_means_bad: bool) -> Self {
        Records {
            inner,
            line: Vec::with_capacity(1024),
            ends: Vec::with_capacity(32),
            owned: OwnedRecord::default(),
            replacement_means_bad,
        }
    }

    /// Read one raw line without its terminator; `None` at the end, else the terminator
    /// (`\r\n`, `\n`, or none at the end of the file).
    fn read_line(&mut self) -> io::Result<Option<&'static str>> {
        self.line.clear();
        if self.inner.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(None);
        }
        if self.line.last() != Some(&b'\n') {
            return Ok(Some(""));
        }
        self.line.pop();
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
            return Ok(Some("\r\n"));
        }
        Ok(Some("\n"))
    }

    fn decode(bytes: &[u8], bad: &mut bool) -> String {
        if let Ok(s) = simdutf8::basic::from_utf8(bytes) {
            s.to_string()
        } else {
            *bad = true;
            String::from_utf8_lossy(bytes).into_owned()
        }
    }

    /// The next record, handed to `f` with whether some of its bytes did not decode;
    /// `None` at the end of the input.
    fn next_record<T>(&mut self, f: impl FnOnce(Record<'_>, bool) -> T) -> io::Result<Option<T>> {
        let mut terminator;
        loop {
            match self.read_line()? {
                None => return Ok(None),
                Some(t) => terminator = t,
            }
            if !self.line.is_empty() {
                break;
            }
        }
        // SIMD validation: this one check a line is most of the cost of reading.
        let first = match simdutf8::basic::from_utf8(&self.line) {
            Ok(text) => {
                // Commas are ASCII, so every split falls on a character boundary.
                if split_plain(text, &mut self.ends) {
                    let bad = self.replacement_means_bad && text.contains('\u{FFFD}');
                    return Ok(Some(f(Record { text, ends: &self.ends }, bad)));
                }
                (text.to_owned(), false)
            }
            Err(_) => (String::from_utf8_lossy(&self.line).into_owned(), true),
        };
        let bad = self.quoted(first.0, first.1, terminator)?;
        Ok(Some(f(self.owned.record(), bad)))
    }

    /// A line with quotes (or bytes that did not decode) through the RFC 4180 state
    /// machine into `owned`, reading on while a quoted field spans lines.
    fn quoted(&mut self, mut text: String, mut bad: bool, mut terminator: &'static str) -> io::Result<bool> {
        self.owned.clear();
        let (mut quoted, mut started) = (false, false);
        loop {
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                if quoted {
                    if c == '"' {
                        if chars.peek() == Some(&'"') {
                            self.owned.text.push('"');
                            chars.next();
                        } else {
                            quoted = false;
                        }
                    } else {
                        self.owned.text.push(c);
                    }
                } else if c == ',' {
                    self.owned.end_cell();
                    started = false;
                } else if c == '"' && !started {
                    quoted = true;
                    started = true;
                } else {
                    self.owned.text.push(c);
                    started = true;
                }
            }
            bad |= self.replacement_means_bad && text.contains('\u{FFFD}');
            if !quoted {
                break;
            }
            // Inside a quoted field at the end of a line: the line break is part of it.
            self.owned.text.push_str(terminator);
            match self.read_line()? {
                None => break,
                Some(t) => terminator = t,
            }
            text = Self::decode(&self.line, &mut bad);
        }
        self.owned.ends.push(self.owned.text.len());
        Ok(bad)
    }
}

/// Decodes GB18030 into UTF-8 as a `Read`, a buffer at a time (malformed bytes become U+FFFD).
struct Gb18030Reader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    output: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    done: bool,
}

impl<R: Read> Gb18030Reader<R> {
    fn new(inner: R) -> Self {
        Gb18030Reader {
            inner,
            decoder: encoding_rs::GB18030.new_decoder_without_bom_handling(),
            input: vec![0; 1 << 16],
            in_pos: 0,
            in_len: 0,
            eof: false,
            output: vec![0; 1 << 17],
            out_pos: 0,
            out_len: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Gb18030Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.in_pos == self.in_len && !self.eof {
                self.in_len = read_full(&mut self.inner, &mut self.input)?;
                self.in_pos = 0;
                if self.in_len == 0 {
                    self.eof = true;
                }
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_pos..self.in_len],
                &mut self.output,
                self.eof,
            );
            self.in_pos += read;
            self.out_pos = 0;
            self.out_len = written;
            if self.eof
                && self.in_pos == self.in_len
                && result == encoding_rs::CoderResult::InputEmpty
            {
                self.done = true;
            }
        }
    }
}

fn drive_xlsx(
    reader: Box<dyn ReadSeek + '_>,
    sink: &mut dyn RowSink,
) -> Result<ReadStats, FileError> {
    use calamine::{Reader, Xlsx};
    let xlsx_error = |e: calamine::XlsxError| FileError::Xlsx(e.to_string());
    let mut workbook: Xlsx<_> = Xlsx::new(reader).map_err(xlsx_error)?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or(FileError::Empty)?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(xlsx_error)?;
    let mut fields: Vec<String> = Vec::new();
    let mut current: Option<u32> = None;
    let mut state = XlsxState {
        seen_header: false,
        rows: 0,
        record: OwnedRecord::default(),
    };
    while let Some(cell) = cells.next_cell().map_err(xlsx_error)? {
        let (r, c) = cell.get_position();
        if current != Some(r) {
            if let Some(prev) = current {
                state.emit(prev, &fields, sink)?;
            }
            current = Some(r);
            fields.clear();
        }
        let text = cell_text(cell.get_value());
        if !text.is_empty() {
            let c = c as usize;
            if fields.len() <= c {
                fields.resize(c + 1, String::new());
            }
            fields[c] = text;
        }
    }
    if let Some(prev) = current {
        state.emit(prev, &fields, sink)?;
    }
    if state.rows == 0 {
        return Err(FileError::Empty);
    }
    Ok(ReadStats {
        rows: state.rows,
        encoding: Encoding::Xlsx,
    })
}

struct XlsxState {
    seen_header: bool,
    rows: u64,
    record: OwnedRecord,
}

impl XlsxState {
    fn emit(
        &mut self,
        row: u32,
        fields: &[String],
        sink: &mut dyn RowSink,
    ) -> Result<(), FileError> {
        if fields.iter().all(|f| f.trim().is_empty()) {
            return Ok(());
        }
        if !self.seen_header {
            let header: Vec<&str> = fields.iter().map(String::as_str).collect();
            match sink.header(&header) {
                Err(_) if is_title(&header) && u64::from(row) + 1 < MAX_TITLE_ROWS => return Ok(()),
                other => other?,
            }
            self.seen_header = true;
            return Ok(());
        }
        self.record.clear();
        for f in fields {
            self.record.push_cell(f);
        }
        self.rows += 1;
        sink.row(u64::from(row) + 1, &self.record.record(), None);
        Ok(())
    }
}

fn cell_text(value: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef;
    match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            }
        }
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        DataRef::DateTime(dt) => {
            let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
            if hh == 0 && mm == 0 && ss == 0 {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            }
        }
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::Records;
    use proptest::prelude::*;

    fn ours(text: &str) -> Vec<Vec<String>> {
        let mut r = Records::new(text.as_bytes(), false);
        let mut out = Vec::new();
        while let Ok(Some(cells)) =
            r.next_record(|rec, _| rec.iter().map(str::to_string).collect::<Vec<_>>())
        {
            out.push(cells);
        }
        out
    }

    fn theirs(text: &str) -> Vec<Vec<String>> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        rdr.records()
            .filter_map(Result::ok)
            .map(|r| r.iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn quoting_rules() {
        let text = "a,\"b,c\",\"d \"\"e\"\"\"\r\n\r\n\"multi\r\nline\",x\"y,\"\"\nlast,\"open";
        assert_eq!(
            ours(text),
            vec![
                vec!["a".to_string(), "b,c".into(), "d \"e\"".into()],
                vec!["multi\r\nline".into(), "x\"y".into(), String::new()],
                vec!["last".into(), "open".into()],
            ]
        );
        assert_eq!(ours(text), theirs(text));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The line splitter agrees with the csv crate on any text without a lone `\r`.
        #[test]
        fn agrees_with_the_csv_crate(pieces in proptest::collection::vec(prop_oneof![
            Just("a"), Just("中文"), Just(","), Just("\""), Just("\n"), Just("\r\n"), Just(" "), Just("\"\""),
        ], 0..60)) {
            let text: String = pieces.concat();
            prop_assert_eq!(ours(&text), theirs(&text));
        }
    }
}
