//! The shipped policies, built into the binary by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/embedded_policies.rs"));
