//! Generators (filled below).
