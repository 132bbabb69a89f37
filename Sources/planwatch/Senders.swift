import Foundation
import ZeroMQ

/// Publishes to the daemon's SUB, first waiting (on an XPUB) until its subscription arrives.
struct FireAndForgetSender {
    let socket: ZMQSocket

    init(context: ZMQContext, endpoint: String, timeoutSeconds: Double = 10, curve: ClientCurve? = nil) throws {
        socket = try ZMQSocket(context: context, type: .xpub)
        try curve?.apply(to: socket)
        try socket.set(.sendHighWaterMark(0))
        try socket.set(.linger(milliseconds: 10_000))
        try socket.connect(endpoint)
        var poller = Poller()
        poller.add(socket)
        guard try poller.poll(timeoutMilliseconds: Int(timeoutSeconds * 1000))[0], try socket.receive() != nil else {
            throw CLIError("no daemon subscribed at \(endpoint) within \(timeoutSeconds) s; is planwatchd running?")
        }
    }

    func send(_ frames: [[UInt8]]) throws { try socket.send(frames) }
}

/// Sends on the daemon's ROUTER, resending until `ok` or `duplicate`; returns the final reply.
final class AckSender {
    private let context: ZMQContext
    private let endpoint: String
    private var socket: ZMQSocket
    let timeoutSeconds: Double
    let maxTries: Int

    private let curve: ClientCurve?

    init(context: ZMQContext, endpoint: String, timeoutSeconds: Double = 5, maxTries: Int = 20, curve: ClientCurve? = nil) throws {
        self.context = context
        self.endpoint = endpoint
        self.timeoutSeconds = timeoutSeconds
        self.maxTries = maxTries
        self.curve = curve
        socket = try Self.dealer(context, endpoint, curve)
    }

    private static func dealer(_ context: ZMQContext, _ endpoint: String, _ curve: ClientCurve?) throws -> ZMQSocket {
        let socket = try ZMQSocket(context: context, type: .dealer)
        try curve?.apply(to: socket)
        try socket.connect(endpoint)
        return socket
    }

    /// `(status, detail)` once the daemon answered ok, duplicate or rejected.
    func send(_ frames: [[UInt8]]) throws -> (status: String, detail: String) {
        for attempt in 1...maxTries {
            try socket.send(frames)
            var poller = Poller()
            poller.add(socket)
            guard try poller.poll(timeoutMilliseconds: Int(timeoutSeconds * 1000))[0], let reply = try socket.receive(),
                reply.count == 3
            else {
                // No answer: the daemon may be restarting. A fresh socket drops any late reply.
                socket.close()
                socket = try Self.dealer(context, endpoint, curve)
                continue
            }
            let status = String(decoding: reply[0], as: UTF8.self)
            if status == "busy" {
                Thread.sleep(forTimeInterval: min(0.05 * Double(attempt), 1))
                continue
            }
            return (status, String(decoding: reply[2], as: UTF8.self))
        }
        throw CLIError("no ok or duplicate after \(maxTries) tries")
    }
}
