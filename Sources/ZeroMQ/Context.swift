import CZeroMQ

/// A libzmq context. Contexts are thread-safe; sockets are not.
///
/// Call ``shutdown()`` to wake every blocked call on the context's sockets with
/// ``ZMQError/Code/terminated``; the context is terminated when the last reference goes.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// Creates a context with the given number of I/O threads.
    public init(ioThreads: Int32 = 1) {
        guard let handle = zmq_ctx_new() else {
            preconditionFailure("zmq_ctx_new failed: out of memory or file descriptors")
        }
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        self.handle = handle
    }

    /// Wakes every blocked call on this context's sockets with `ETERM`.
    /// The sockets must still be closed by their owning threads.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == czmq_eintr() {}
    }
}
