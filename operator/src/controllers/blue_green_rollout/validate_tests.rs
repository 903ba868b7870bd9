//! Tests of validate (filled below).
