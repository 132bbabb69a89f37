import Foundation
import PlanWatchModel
import ZeroMQ

/// Test-side sockets against a running daemon's endpoints.
public struct Peer {
    public let context: ZMQContext
    /// With CURVE: this peer's keys and the daemon's public key.
    public var curve: (keys: CurveKeyPair, serverKey: String)?

    public init(context: ZMQContext = ZMQContext(), curve: (keys: CurveKeyPair, serverKey: String)? = nil) {
        self.context = context
        self.curve = curve
    }

    /// A socket of `type`, a CURVE client when this peer has keys.
    public func socket(_ type: SocketType) throws -> ZMQSocket {
        let socket = try ZMQSocket(context: context, type: type)
        if let curve { try socket.makeCurveClient(keys: curve.keys, serverKey: curve.serverKey) }
        return socket
    }

    /// A SUB on `endpoint` that is known to receive: it asks `probe` to make the daemon
    /// publish a dead letter until one arrives (the slow-joiner problem, solved by a condition).
    public func subscriber(to endpoint: String, prefixes: [String], probeAck: String) throws -> ZMQSocket {
        let sub = try socket(.sub)
        try sub.set(.subscribe("deadletter.schemaViolation"))
        for p in prefixes { try sub.set(.subscribe(p)) }
        try sub.connect(endpoint)
        let probe = try socket(.dealer)
        defer { probe.close() }
        try probe.connect(probeAck)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            try probe.send([Array("probe".utf8)])
            if try sub.receive(within: 0.3, where: { String(decoding: $0[0], as: UTF8.self) == "deadletter.schemaViolation" }) != nil {
                try sub.set(.unsubscribe("deadletter.schemaViolation"))
                if !prefixes.contains(where: { "deadletter.schemaViolation".hasPrefix($0) }) {
                    // Drain any probe dead letters already queued.
                    while try sub.receive(within: 0.05) != nil {}
                }
                return sub
            }
        }
        throw TestFailure("subscriber never received from \(endpoint)")
    }

    /// An XPUB producer connected to the daemon's SUB, returned once the daemon subscribed.
    public func producer(to endpoint: String) throws -> ZMQSocket {
        let pub = try socket(.xpub)
        try pub.set(.sendHighWaterMark(0))
        try pub.set(.linger(milliseconds: 2000))
        try pub.connect(endpoint)
        guard try pub.receive(within: 30) != nil else { throw TestFailure("daemon never subscribed at \(endpoint)") }
        return pub
    }

    /// A DEALER on the acknowledged path.
    public func dealer(to endpoint: String) throws -> ZMQSocket {
        let dealer = try socket(.dealer)
        try dealer.connect(endpoint)
        return dealer
    }

    /// Sends `[topic, body]` on a DEALER and returns the reply `[status, id, detail]` as strings.
    public func ack(_ dealer: ZMQSocket, _ message: (topic: [UInt8], body: [UInt8]), within seconds: Double = 30) throws -> [String] {
        try dealer.send([message.topic, message.body])
        guard let reply = try dealer.receive(within: seconds) else { throw TestFailure("no reply within \(seconds) s") }
        return reply.map { String(decoding: $0, as: UTF8.self) }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads a published message: its topic and parsed body.
public struct Published {
    public let topic: String
    public let body: JSONObject

    public init?(_ frames: [[UInt8]]) {
        guard frames.count == 2, let body = Fixtures.object(frames[1]) else { return nil }
        topic = String(decoding: frames[0], as: UTF8.self)
        self.body = body
    }

    public func string(_ key: String) -> String? {
        if case .string(let s)? = body[key] { return s }
        return nil
    }

    public var seq: Int64 {
        if case .integer(let s)? = body["seq"] { return s }
        return -1
    }
}
