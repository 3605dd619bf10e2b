//! [`WeakContext`]: a handle that does not keep a context alive, what `set_app_context`
//! receives. It lives apart from the context so that the component trait below the context
//! can name it; the context gives it back as an [`ApplicationContext`](super::ApplicationContext)
//! (`upgrade`, in `mod.rs`).

use std::any::Any;
use std::sync::Weak;

/// A handle that does not keep the context alive (what `set_app_context` receives); keep it
/// rather than the context itself, which would then live forever.
#[derive(Clone)]
pub struct WeakContext(pub(super) Weak<dyn Any + Send + Sync>);

impl std::fmt::Debug for WeakContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WeakContext")
            .field(&(self.0.strong_count() > 0))
            .finish()
    }
}
