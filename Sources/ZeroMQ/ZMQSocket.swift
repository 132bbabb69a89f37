import CZeroMQ

/// One libzmq socket. Not thread-safe: create it, use it and close it on one thread.
///
/// Messages are multipart: an array of frames, each an array of bytes.
public final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    /// Kept alive while the socket is: `zmq_ctx_term` (the context's deinit) waits for every
    /// socket to close, so a context released first would hang its last owner.
    private let context: ZMQContext
    private let message: UnsafeMutablePointer<zmq_msg_t>
    private var closed = false

    /// Creates a socket of `type` on `context`, with linger 0 so that closing never hangs.
    public init(context: ZMQContext, type: SocketType) throws {
        guard let handle = zmq_socket(context.handle, type.raw) else {
            throw ZMQError(operation: "zmq_socket")
        }
        self.handle = handle
        self.context = context
        message = .allocate(capacity: 1)
        zmq_msg_init(message)
        try set(.linger(milliseconds: 0))
    }

    deinit {
        close()
        zmq_msg_close(message)
        message.deallocate()
    }

    /// Sets an option; see ``SocketOption``.
    public func set(_ option: SocketOption) throws {
        if option.apply(to: handle) != 0 {
            throw ZMQError(operation: "set \(option.name)")
        }
    }

    /// Binds to an endpoint such as `tcp://127.0.0.1:5550` or `tcp://127.0.0.1:*`.
    public func bind(_ endpoint: String) throws {
        if zmq_bind(handle, endpoint) != 0 { throw ZMQError(operation: "bind \(endpoint)") }
        boundEndpoints.append(lastEndpoint)
    }

    /// Every endpoint bound so far, with wildcard ports resolved.
    public private(set) var boundEndpoints: [String] = []

    /// Connects to an endpoint; the connection is made in the background.
    public func connect(_ endpoint: String) throws {
        if zmq_connect(handle, endpoint) != 0 { throw ZMQError(operation: "connect \(endpoint)") }
    }

    /// The endpoint this socket last bound or connected to, with a wildcard port resolved.
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return "" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends a multipart message. With `wait: false` returns false instead of blocking
    /// when the message cannot be queued now.
    @discardableResult
    public func send(_ frames: [[UInt8]], wait: Bool = true) throws -> Bool {
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if !wait { flags |= ZMQ_DONTWAIT }
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if rc >= 0 { break }
                let code = zmq_errno()
                if code == czmq_eintr() { continue }
                // libzmq sends a multipart message atomically: EAGAIN can only occur on the first frame.
                if code == czmq_eagain() && index == 0 { return false }
                throw ZMQError(operation: "send", code: code)
            }
        }
        return true
    }

    /// Receives one whole multipart message. With `wait: false` returns nil when none is queued.
    public func receive(wait: Bool = true) throws -> [[UInt8]]? {
        var userId: String?
        return try receive(wait: wait, userId: &userId)
    }

    /// Receives one whole multipart message and the User-Id that ZAP granted its sender
    /// (nil without authentication).
    public func receive(wait: Bool = true, userId: inout String?) throws -> [[UInt8]]? {
        userId = nil
        var frames: [[UInt8]] = []
        while true {
            let rc = zmq_msg_recv(message, handle, wait || !frames.isEmpty ? 0 : ZMQ_DONTWAIT)
            if rc < 0 {
                let code = zmq_errno()
                if code == czmq_eintr() { continue }
                if code == czmq_eagain() && frames.isEmpty { return nil }
                throw ZMQError(operation: "receive", code: code)
            }
            // A ROUTER's identity frame carries no metadata; the peer's own frames do.
            if userId == nil, let value = zmq_msg_gets(message, "User-Id") {
                userId = String(cString: value)
            }
            let size = zmq_msg_size(message)
            if size == 0 {
                frames.append([])
            } else {
                let data = zmq_msg_data(message)!.assumingMemoryBound(to: UInt8.self)
                frames.append(Array(UnsafeBufferPointer(start: data, count: size)))
            }
            if zmq_msg_more(message) == 0 { return frames }
        }
    }

    /// Closes the socket; later calls fail. Called by `deinit` if not called before.
    public func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }
}
