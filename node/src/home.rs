//! The node's home directory: where its identity, store and local-API files live.
//!
//! ```text
//! <home>/identity.key   32-byte ed25519 seed, mode 0600
//! <home>/messaging.key  32-byte X25519 identity secret for end-to-end messaging, mode 0600
//! <home>/config.toml    optional settings (listen addresses, API address, bootstrap peers)
//! <home>/store/         the sled database (locked while a node runs)
//! <home>/api.token      bearer token of the local API, new at each daemon start, mode 0600
//! <home>/api.addr       address the running daemon's API listens on
//! ```

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use paperplane_crypto::Identity;

/// Errors about the home directory and its files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HomeError {
    /// `init` was run on a home that already holds an identity.
    #[error("an identity already exists in {0}; refusing to overwrite it")]
    AlreadyInitialised(PathBuf),
    /// No identity yet.
    #[error("no identity in {0}: run `paperplane init --handle NAME` first")]
    NotInitialised(PathBuf),
    /// The identity file is unreadable as a key.
    #[error("the identity file {0} is corrupt: {1}")]
    CorruptIdentity(PathBuf, String),
    /// The config file does not parse.
    #[error("the config file {0} is invalid: {1}")]
    BadConfig(PathBuf, String),
    /// No home directory could be determined.
    #[error("no home directory: pass --home DIR or set PAPERPLANE_HOME")]
    NoHome,
    /// Filesystem failure.
    #[error("{0}: {1}")]
    Io(PathBuf, #[source] io::Error),
}

/// A node's home directory.
#[derive(Clone, Debug)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The home at `root` (not created until needed).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `explicit`, else `$PAPERPLANE_HOME`, else the platform data directory
    /// (`$XDG_DATA_HOME/paperplane` on Linux).
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Self, HomeError> {
        if let Some(p) = explicit {
            return Ok(Self::new(p));
        }
        if let Some(p) = std::env::var_os("PAPERPLANE_HOME").filter(|p| !p.is_empty()) {
            return Ok(Self::new(PathBuf::from(p)));
        }
        dirs::data_dir()
            .map(|d| Self::new(d.join("paperplane")))
            .ok_or(HomeError::NoHome)
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of the identity key file.
    pub fn identity_path(&self) -> PathBuf {
        self.root.join("identity.key")
    }
    /// Path of the X25519 messaging identity key file.
    pub fn messaging_key_path(&self) -> PathBuf {
        self.root.join("messaging.key")
    }
    /// Path of the sled store.
    pub fn store_path(&self) -> PathBuf {
        self.root.join("store")
    }
    /// Path of the optional config file.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    /// Path of the local API's bearer token.
    pub fn token_path(&self) -> PathBuf {
        self.root.join("api.token")
    }
    /// Path of the file holding the running daemon's API address.
    pub fn api_addr_path(&self) -> PathBuf {
        self.root.join("api.addr")
    }

    fn ensure_dir(&self) -> Result<(), HomeError> {
        fs::create_dir_all(&self.root).map_err(|e| HomeError::Io(self.root.clone(), e))?;
        set_mode(&self.root, 0o700).map_err(|e| HomeError::Io(self.root.clone(), e))
    }

    /// Creates a new identity from `seed`; refuses if one exists.
    pub fn create_identity(&self, seed: [u8; 32]) -> Result<Identity, HomeError> {
        self.ensure_dir()?;
        let identity = Identity::from_seed(seed);
        let path = self.identity_path();
        write_secret(&path, identity.to_seed().as_ref(), false).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                HomeError::AlreadyInitialised(self.root.clone())
            } else {
                HomeError::Io(path.clone(), e)
            }
        })?;
        Ok(identity)
    }

    /// Loads the identity.
    pub fn load_identity(&self) -> Result<Identity, HomeError> {
        let path = self.identity_path();
        let bytes = match fs::read(&path) {
            Ok(b) => zeroize::Zeroizing::new(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(HomeError::NotInitialised(self.root.clone()))
            }
            Err(e) => return Err(HomeError::Io(path, e)),
        };
        Identity::from_bytes(&bytes).map_err(|e| HomeError::CorruptIdentity(path, e.to_string()))
    }

    /// The X25519 messaging identity secret, created (mode 0600) on first use.
    pub fn messaging_secret(&self) -> Result<zeroize::Zeroizing<[u8; 32]>, HomeError> {
        let path = self.messaging_key_path();
        match fs::read(&path) {
            Ok(bytes) => {
                let bytes = zeroize::Zeroizing::new(bytes);
                let secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    HomeError::CorruptIdentity(path.clone(), "expected 32 bytes".into())
                })?;
                Ok(zeroize::Zeroizing::new(secret))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let secret = zeroize::Zeroizing::new(rand::random::<[u8; 32]>());
                write_secret(&path, secret.as_ref(), false).map_err(|e| HomeError::Io(path, e))?;
                Ok(secret)
            }
            Err(e) => Err(HomeError::Io(path, e)),
        }
    }

    /// Whether an identity exists.
    pub fn is_initialised(&self) -> bool {
        self.identity_path().exists()
    }

    /// Reads the config file; a missing file is the default config.
    pub fn load_config(&self) -> Result<FileConfig, HomeError> {
        let path = self.config_path();
        match fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).map_err(|e| HomeError::BadConfig(path, e.to_string()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(FileConfig::default()),
            Err(e) => Err(HomeError::Io(path, e)),
        }
    }

    /// A fresh API token for a daemon that is starting: random, written (mode 0600, replacing
    /// the previous daemon's token at once) before the API listens.
    pub fn new_api_token(&self) -> Result<ApiToken, HomeError> {
        self.ensure_dir()?;
        let token = ApiToken(zeroize::Zeroizing::new(hex::encode(
            rand::random::<[u8; 32]>(),
        )));
        let path = self.token_path();
        let partial = self.root.join("api.token.new");
        write_secret(&partial, token.expose().as_bytes(), true)
            .map_err(|e| HomeError::Io(partial.clone(), e))?;
        fs::rename(&partial, &path).map_err(|e| HomeError::Io(path, e))?;
        Ok(token)
    }

    /// Reads the token the CLI presents to the daemon, if any.
    pub fn read_api_token(&self) -> Option<ApiToken> {
        let text = zeroize::Zeroizing::new(fs::read_to_string(self.token_path()).ok()?);
        let token = text.trim();
        (!token.is_empty()).then(|| ApiToken::new(token))
    }

    /// Records the running daemon's API address.
    pub fn write_api_addr(&self, addr: &str) -> Result<(), HomeError> {
        let path = self.api_addr_path();
        fs::write(&path, addr).map_err(|e| HomeError::Io(path, e))
    }

    /// Removes the API address file (on shutdown).
    pub fn clear_api_addr(&self) {
        let _ = fs::remove_file(self.api_addr_path());
    }

    /// The recorded API address, if a daemon wrote one.
    pub fn read_api_addr(&self) -> Option<String> {
        fs::read_to_string(self.api_addr_path())
            .ok()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
    }
}

/// The local API's bearer token. Its `Debug` output never shows it, and its memory is wiped
/// when dropped; [`ApiToken::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(zeroize::Zeroizing<String>);

impl ApiToken {
    /// A token with this text (as read from `api.token` or given by a caller).
    pub fn new(text: &str) -> Self {
        Self(zeroize::Zeroizing::new(text.to_owned()))
    }

    /// The token's text, to send or compare.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// Settings read from `<home>/config.toml`; flags override them.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// Multiaddrs to listen on.
    pub listen: Vec<String>,
    /// Address of the local API (`127.0.0.1:PORT`).
    pub api: Option<String>,
    /// Bootstrap peers (multiaddrs with `/p2p/<id>`), dialled at start and added to Kademlia.
    pub bootstrap: Vec<String>,
    /// Whether mDNS discovery runs (default on).
    pub mdns: Option<bool>,
    /// Whether the node relays for others (default off).
    pub relay_server: Option<bool>,
    /// Command run for each notification (argv; see the README).
    pub notify_command: Vec<String>,
}

/// Writes a secret file with mode 0600; `overwrite: false` fails if it exists.
fn write_secret(path: &Path, bytes: &[u8], overwrite: bool) -> io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path)?;
    set_mode(path, 0o600)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path().join("h"));
        assert!(matches!(
            home.load_identity(),
            Err(HomeError::NotInitialised(_))
        ));
        let id = home.create_identity([5; 32]).expect("create");
        assert!(matches!(
            home.create_identity([6; 32]),
            Err(HomeError::AlreadyInitialised(_))
        ));
        assert_eq!(home.load_identity().expect("load").peer_id(), id.peer_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(home.identity_path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let token = home.new_api_token().expect("token");
            assert_eq!(home.read_api_token().as_ref(), Some(&token));
            let next = home.new_api_token().expect("a fresh token");
            assert_ne!(next, token, "each start gets a new token");
            assert_eq!(home.read_api_token().as_ref(), Some(&next));
            assert!(!format!("{next:?}").contains(next.expose()), "redacted");
            let mode = fs::metadata(home.token_path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn corrupt_identity_and_config_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        fs::write(home.identity_path(), b"garbage").expect("write");
        assert!(matches!(
            home.load_identity(),
            Err(HomeError::CorruptIdentity(..))
        ));
        fs::write(home.config_path(), "listen = 5").expect("write");
        assert!(matches!(home.load_config(), Err(HomeError::BadConfig(..))));
        fs::write(
            home.config_path(),
            "listen = [\"/ip4/127.0.0.1/tcp/0\"]\nmdns = false\n",
        )
        .expect("write");
        let cfg = home.load_config().expect("parses");
        assert_eq!(cfg.mdns, Some(false));
    }
}
