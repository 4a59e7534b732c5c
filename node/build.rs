//! Rebuilds the crate when the web app's build (`web/dist`, embedded by `api::web`) changes:
//! the embedding macro cannot tell cargo which files it read.

fn main() {
    println!("cargo:rerun-if-changed=web/dist");
}
