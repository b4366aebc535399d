-- What a dataset contributes to the derivations (creditcity-data's `Facts::encode`),
-- kept with the import so that importing another kind derives again without re-reading
-- every current dataset from its file. Valid only with the dataset's settings_json; a
-- NULL (imports before this migration) means "read the file again".
ALTER TABLE datasets ADD COLUMN facts BYTEA;
