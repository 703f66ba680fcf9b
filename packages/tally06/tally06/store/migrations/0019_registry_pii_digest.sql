-- A keyed digest of the name and phone a registry record seals (docs/registry-extracts.md): a
-- sealed value changes with every sealing (a fresh nonce), so without it an import could not tell
-- a citizen whose phone changed from one re-sent unchanged, and every daily extract would give
-- every citizen a new change number.
ALTER TABLE registry_citizens ADD COLUMN pii_digest text;
