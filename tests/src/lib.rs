//! Shared helpers for the end-to-end tests (tool discovery, process harnesses).

pub mod moto;
