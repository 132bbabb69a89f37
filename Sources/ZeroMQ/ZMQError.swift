import CZeroMQ

/// A libzmq failure, carrying the `errno` value libzmq reported and its text.
///
/// Errors are structs with a code (not enums) so that codes can be added without
/// breaking callers. Compare ``code`` with the static members, e.g. ``ZMQError/Code/again``.
public struct ZMQError: Error, CustomStringConvertible, Sendable {
    /// An `errno` value reported by libzmq.
    public struct Code: Hashable, Sendable {
        /// The raw `errno` value.
        public let rawValue: Int32
        /// Wraps a raw `errno` value.
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// The call would block (`EAGAIN`).
        public static let again = Code(rawValue: czmq_eagain())
        /// The context was shut down (`ETERM`); every blocked call wakes with it.
        public static let terminated = Code(rawValue: czmq_eterm())
        /// A signal interrupted the call (`EINTR`).
        public static let interrupted = Code(rawValue: czmq_eintr())
        /// A ROUTER could not route to the named peer (`EHOSTUNREACH`).
        public static let hostUnreachable = Code(rawValue: czmq_ehostunreach())
    }

    /// What failed.
    public let code: Code
    /// What the caller was doing, e.g. `bind tcp://127.0.0.1:5550`.
    public let operation: String

    init(operation: String, code: Int32 = czmq_errno()) {
        self.code = Code(rawValue: code)
        self.operation = operation
    }

    /// The operation and libzmq's own message.
    public var description: String {
        "\(operation): \(String(cString: zmq_strerror(code.rawValue))) (errno \(code.rawValue))"
    }
}
