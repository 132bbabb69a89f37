import CZeroMQ

extension ZMQSocket {
    /// Runs libzmq's built-in proxy (`zmq_proxy`) between `frontend` and `backend` on the
    /// calling thread, which must own both sockets: messages go from each to the other, and
    /// with XSUB/XPUB the subscriptions go upstream. Returns once the context is shut down
    /// (``ZMQContext/shutdown()``); any other failure throws.
    public static func proxy(frontend: ZMQSocket, backend: ZMQSocket) throws {
        while zmq_proxy(frontend.handle, backend.handle, nil) != 0 {
            let error = ZMQError(operation: "zmq_proxy")
            if error.code == .terminated { return }
            if error.code != .interrupted { throw error }
        }
    }
}
