//! tether's IoC container (being written).
#![deny(missing_docs)]
