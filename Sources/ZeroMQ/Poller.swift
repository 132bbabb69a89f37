import CZeroMQ

/// Waits until one of several sockets has a message to read.
///
/// A poller belongs to the thread that owns its sockets.
public struct Poller {
    private var sockets: [ZMQSocket] = []
    private var items: [zmq_pollitem_t] = []

    /// An empty poller.
    public init() {}

    /// Adds a socket to watch for input; returns its index in ``poll(timeoutMilliseconds:)``'s result.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket) -> Int {
        sockets.append(socket)
        items.append(zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Waits up to `timeoutMilliseconds` (-1: for ever) and returns, per socket, whether
    /// it has input. `active` limits the wait to some of the sockets (nil: all).
    public mutating func poll(timeoutMilliseconds: Int, active: [Bool]? = nil) throws -> [Bool] {
        for i in items.indices {
            items[i].events = (active?[i] ?? true) ? Int16(ZMQ_POLLIN) : 0
            items[i].revents = 0
        }
        while true {
            let rc = items.withUnsafeMutableBufferPointer {
                zmq_poll($0.baseAddress, Int32($0.count), timeoutMilliseconds)
            }
            if rc >= 0 { break }
            let code = zmq_errno()
            if code == czmq_eintr() { continue }
            throw ZMQError(operation: "poll", code: code)
        }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
