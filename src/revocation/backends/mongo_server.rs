//! Which server answered at a `mongodb://` URL: MongoDB itself, or something that only speaks
//! its wire protocol (such as `nx-27017`, which stores in SQLite and answers `buildInfo` with
//! MongoDB's version number). Figures from the latter say nothing about MongoDB's performance,
//! so they are labelled as such wherever they are shown.

use std::fmt;

use mongodb::bson::Document;

/// What every figure measured on a wire-compatible server carries beside it.
pub const WIRE_COMPATIBLE: &str = "wire-compatible server — not MongoDB's performance";

/// The server behind a `mongodb://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MongoServer {
    /// A real `mongod` or `mongos`, with the version it reports.
    MongoDb { process: String, version: String },
    /// Anything else: `name` as the server calls itself (`serverStatus.process`), or
    /// "unidentified server" when it would not say.
    WireCompatible { name: String, reported_version: Option<String> },
}

impl MongoServer {
    /// Identifies the server from its `serverStatus` and `buildInfo` replies (either may be
    /// missing: `serverStatus` needs the `clusterMonitor` role on an authenticated server).
    ///
    /// Only `process: mongod|mongos` counts as MongoDB; a version number alone does not, since
    /// wire-compatible servers report MongoDB's.
    pub fn identify(server_status: Option<&Document>, build_info: Option<&Document>) -> Self {
        let process = [server_status, build_info]
            .into_iter()
            .flatten()
            .find_map(|doc| doc.get_str("process").ok())
            .map(process_name);
        let version = [build_info, server_status]
            .into_iter()
            .flatten()
            .find_map(|doc| doc.get_str("version").ok())
            .map(str::to_string);
        match (process, version) {
            (Some(process), Some(version)) if matches!(process.as_str(), "mongod" | "mongos") => {
                MongoServer::MongoDb { process, version }
            }
            (process, reported_version) => MongoServer::WireCompatible {
                name: process.unwrap_or_else(|| "unidentified server".to_string()),
                reported_version,
            },
        }
    }

    /// `None` for MongoDB itself; for anything else, what its figures must not be taken for.
    pub fn caveat(&self) -> Option<&'static str> {
        match self {
            MongoServer::MongoDb { .. } => None,
            MongoServer::WireCompatible { .. } => Some(WIRE_COMPATIBLE),
        }
    }
}

/// `serverStatus.process` is the executable's name; on Windows it may carry `.exe`, and some
/// builds report a path.
fn process_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    base.strip_suffix(".exe").unwrap_or(base).to_string()
}

impl fmt::Display for MongoServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MongoServer::MongoDb { version, .. } => write!(f, "MongoDB {version}"),
            MongoServer::WireCompatible { name, reported_version: Some(version) } => {
                write!(f, "{name} (reports MongoDB {version})")
            }
            MongoServer::WireCompatible { name, reported_version: None } => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::Document;

    /// Replies recorded for the labelling tests (see `tests/fixtures/mongo/README.md`).
    fn fixture(name: &str) -> Document {
        let path = format!("{}/tests/fixtures/mongo/{name}", env!("CARGO_MANIFEST_DIR"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // Extended JSON (`{"$date": …}`) becomes the BSON types the server sent.
        match mongodb::bson::Bson::try_from(json).unwrap() {
            mongodb::bson::Bson::Document(doc) => doc,
            other => panic!("{name} is not a document: {other}"),
        }
    }

    /// A real mongod (recorded-style 7.0 replies) is MongoDB, with no caveat.
    #[test]
    fn real_mongod_is_mongodb() {
        let status = fixture("mongod-7.0-serverStatus.json");
        let build = fixture("mongod-7.0-buildInfo.json");
        let server = MongoServer::identify(Some(&status), Some(&build));
        assert_eq!(server.to_string(), "MongoDB 7.0.14");
        assert_eq!(server.caveat(), None);
        // buildInfo alone (no clusterMonitor role) cannot prove it is mongod: labelled, not trusted.
        let unconfirmed = MongoServer::identify(None, Some(&build));
        assert_eq!(unconfirmed.to_string(), "unidentified server (reports MongoDB 7.0.14)");
        assert_eq!(unconfirmed.caveat(), Some(WIRE_COMPATIBLE));
    }

    /// nx-27017 (replies recorded from the real server) reports MongoDB 7.0.0 but is named as
    /// itself and marked wire-compatible.
    #[test]
    fn nx_27017_is_named_as_itself() {
        let status = fixture("nx-27017-0.8.1-serverStatus.json");
        let build = fixture("nx-27017-0.8.1-buildInfo.json");
        for server in [
            MongoServer::identify(Some(&status), Some(&build)),
            MongoServer::identify(None, Some(&build)),
        ] {
            assert_eq!(server.to_string(), "nx_27017 (reports MongoDB 7.0.0)");
            assert_eq!(server.caveat(), Some(WIRE_COMPATIBLE));
        }
    }

    /// mongos is MongoDB too; `mongod.exe` and paths are reduced to the process name.
    #[test]
    fn mongos_and_windows_names() {
        let status = mongodb::bson::doc! { "process": "mongos", "version": "8.0.3" };
        assert_eq!(MongoServer::identify(Some(&status), None).to_string(), "MongoDB 8.0.3");
        let status = mongodb::bson::doc! { "process": "C:\\mongo\\mongod.exe", "version": "6.0.1" };
        assert_eq!(MongoServer::identify(Some(&status), None).to_string(), "MongoDB 6.0.1");
        let nothing = MongoServer::identify(None, None);
        assert_eq!(nothing.to_string(), "unidentified server");
        assert!(nothing.caveat().is_some());
    }
}
