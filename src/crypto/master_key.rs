//! The master key: 32 bytes that encrypt signing keys and TOTP seeds at rest.
//! In `dev` it is generated into the data directory on first start.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("must be 32 bytes encoded as base64 (got {0} bytes)")]
    WrongLength(usize),
    #[error("must be base64 (e.g. `openssl rand -base64 32`)")]
    NotBase64,
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("operating system randomness failed: {0}")]
    Random(super::RandomError),
}

/// 256 bits of key material; wiped from memory on drop, never printed.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// How the key was obtained; a generated one deserves a loud warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    Configured,
    ExistingDevFile(PathBuf),
    GeneratedDevFile(PathBuf),
}

impl MasterKey {
    pub fn decode(encoded: &str) -> Result<Self, MasterKeyError> {
        let bytes = Zeroizing::new(STANDARD.decode(encoded.trim()).map_err(|_| MasterKeyError::NotBase64)?);
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| MasterKeyError::WrongLength(bytes.len()))?;
        Ok(Self(Zeroizing::new(arr)))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A purpose-bound subkey (HMAC-SHA256 of `label` under the master key),
    /// so the master key itself only ever keys derivations.
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        super::secret_hash::hmac_sha256(self.as_bytes(), label)
    }

    /// The configured key, or the development key file in `data_dir`;
    /// `None` when there is neither (never generates one: a restore must
    /// use the key the backup's signing keys were sealed with).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Option<Self>, MasterKeyError> {
        if let Some(k) = configured {
            return Ok(Some(Self::decode(k)?));
        }
        let path = data_dir.join("master.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(Self::decode(&text)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(MasterKeyError::Io { path, source }),
        }
    }

    /// The configured key, or (dev only, enforced by config validation) the
    /// key in `<data_dir>/master.key`, generated with mode 0600 if missing.
    pub fn load_or_generate(
        configured: Option<&str>,
        data_dir: &Path,
    ) -> Result<(Self, MasterKeySource), MasterKeyError> {
        if let Some(k) = configured {
            return Ok((Self::decode(k)?, MasterKeySource::Configured));
        }
        let path = data_dir.join("master.key");
        let io = |source| MasterKeyError::Io { path: path.clone(), source };
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok((Self::decode(&text)?, MasterKeySource::ExistingDevFile(path))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let mut raw = Zeroizing::new([0u8; 32]);
        super::fill_random(raw.as_mut()).map_err(MasterKeyError::Random)?;
        let encoded = Zeroizing::new(STANDARD.encode(raw.as_ref()));
        match write_private(&path, encoded.as_bytes()) {
            Ok(()) => Ok((Self(raw), MasterKeySource::GeneratedDevFile(path))),
            // Another process generated it between our read and our write:
            // use theirs, so both encrypt with the same key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path).map_err(io)?;
                Ok((Self::decode(&text)?, MasterKeySource::ExistingDevFile(path)))
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// Creates the file exclusively (never overwrites a key another process just
/// wrote) with owner-only permissions from the first byte.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_checks_length_and_encoding() {
        assert!(matches!(MasterKey::decode("!!"), Err(MasterKeyError::NotBase64)));
        assert!(matches!(MasterKey::decode("AAAA"), Err(MasterKeyError::WrongLength(3))));
        MasterKey::decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    }

    #[test]
    fn dev_key_is_generated_once_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, src1) = MasterKey::load_or_generate(None, dir.path()).unwrap();
        assert!(matches!(src1, MasterKeySource::GeneratedDevFile(_)));
        let (k2, src2) = MasterKey::load_or_generate(None, dir.path()).unwrap();
        assert!(matches!(src2, MasterKeySource::ExistingDevFile(_)));
        assert_eq!(k1.as_bytes(), k2.as_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("master.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
