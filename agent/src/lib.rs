//! Grounded, cited answers over a lore library.
