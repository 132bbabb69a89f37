import CZeroMQ
import Foundation

/// A ZAP request (RFC 27) for a CURVE client.
public struct ZAPRequest: Sendable {
    /// The ZAP domain of the server socket.
    public let domain: String
    /// The peer's IP address.
    public let address: String
    /// The client's public key, Z85.
    public let publicKey: String
}

/// The ZeroMQ authentication handler: a REP socket on `inproc://zeromq.zap.01`, on a thread
/// of its own, answering every CURVE handshake with `decide`. Without it a CURVE server
/// accepts any client key. Start it before any server socket binds.
public final class ZAPAuthenticator: Sendable {
    /// Returns the User-Id to grant (the client's name), or nil to refuse the client.
    public typealias Decide = @Sendable (ZAPRequest) -> String?

    private let context: ZMQContext
    private let decide: Decide
    private let done = DispatchSemaphore(value: 0)

    public init(context: ZMQContext, decide: @escaping Decide) {
        self.context = context
        self.decide = decide
    }

    /// Binds the ZAP endpoint and starts answering; returns once bound. Runs until the
    /// context is shut down.
    public func start() throws {
        let ready = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        let (context, decide, done) = (self.context, self.decide, self.done)
        let thread = Thread {
            defer { done.signal() }
            nameThisThread("pw-zap")
            let socket: ZMQSocket
            do {
                socket = try ZMQSocket(context: context, type: .rep)
                try socket.bind("inproc://zeromq.zap.01")
            } catch {
                failure.set(error)
                ready.signal()
                return
            }
            ready.signal()
            while true {
                guard let request = try? socket.receive() else { break }
                let reply = Self.answer(request, decide: decide)
                if (try? socket.send(reply)) == nil { break }
            }
            socket.close()
        }
        thread.start()
        ready.wait()
        if let error = failure.error { throw error }
    }

    /// Waits until the handler's thread has ended (after the context was shut down).
    public func waitUntilStopped() { done.wait() }

    static func answer(_ f: [[UInt8]], decide: Decide) -> [[UInt8]] {
        func text(_ i: Int) -> String { i < f.count ? String(decoding: f[i], as: UTF8.self) : "" }
        let requestId = f.count > 1 ? f[1] : []
        func reply(_ code: String, _ status: String, user: String = "") -> [[UInt8]] {
            [Array("1.0".utf8), requestId, Array(code.utf8), Array(status.utf8), Array(user.utf8), []]
        }
        guard f.count >= 7, text(0) == "1.0", text(5) == "CURVE", let key = CurveKeyPair.z85(f[6]) else {
            return reply("400", "only CURVE clients are accepted")
        }
        let request = ZAPRequest(domain: text(2), address: text(3), publicKey: key)
        guard let user = decide(request) else { return reply("400", "client key not allowed") }
        return reply("200", "OK", user: user)
    }
}

private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.withLock { stored } }
    func set(_ e: any Error) { lock.withLock { stored = e } }
}
