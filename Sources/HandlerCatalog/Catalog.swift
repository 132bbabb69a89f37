import CampusSafety
import HandlerKit

/// The built-in handlers, in the order events reach them. This is the one file the
/// `new-handler` plugin edits when it registers a new module.
public enum HandlerCatalog {
    /// One instance of each built-in handler.
    public static func builtIn() -> [any Handler] {
        [
            CampusSafetyHandler(),
        ]
    }
}
