//! kinds (under construction).
