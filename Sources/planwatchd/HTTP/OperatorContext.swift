import Hummingbird

/// The request context of the daemon's HTTP side: who the operator is, once
/// ``OperatorAuthMiddleware`` has checked them.
struct OperatorContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The authenticated user of the web config; nil without one.
    var operatorName: String?

    init(source: Source) {
        coreContext = .init(source: source)
        operatorName = nil
    }
}
