//! The echo service (placeholder being replaced by the Pyro work).
