//! Shared helpers for the end-to-end tests (tool discovery, process harnesses).
