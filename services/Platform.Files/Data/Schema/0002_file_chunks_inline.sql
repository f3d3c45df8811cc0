-- A chunk row of up to 8,160 bytes now stays in its heap page instead of being moved to TOAST: the uploader writes
-- 8,000-byte chunks (8,048-byte rows), one per page, where a 512 KiB chunk became ~263 TOAST rows with as many
-- index entries and WAL records. Files stored before keep their larger chunk_size; their rows exceed the target
-- and are still stored out of line (STORAGE EXTERNAL), so an older uploader keeps working against this schema.
ALTER TABLE file_chunks SET (toast_tuple_target = 8160);
