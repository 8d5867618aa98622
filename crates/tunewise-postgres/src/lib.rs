//! tunewise storage on PostgreSQL (being written).
