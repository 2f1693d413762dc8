//! MongoDB specifics for the end-to-end tests (the server at `MONGODB_URL`: CI starts
//! `nx-27017`, a wire-compatible server; `docker compose up -d mongodb` gives MongoDB itself).
//! Opening it, skipping or failing is [`super::backend`]'s job.

/// `url` with one more URI option (`name=value`).
pub fn with_option(url: &str, option: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{option}")
}

/// The database a namespaced URL names.
pub fn database_of(url: &str) -> String {
    url::Url::parse(url).unwrap().path().trim_start_matches('/').to_string()
}

/// Database names on the server at `url` (to check that a test's namespace is gone).
pub async fn database_names(url: &str) -> Vec<String> {
    let client = mongodb::Client::with_uri_str(url).await.unwrap();
    client.list_database_names().await.unwrap()
}
