//! Tests of plan (filled below).
