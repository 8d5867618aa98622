//! tunewise storage on SQLite (being written).
