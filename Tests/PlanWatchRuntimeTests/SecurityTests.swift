import Foundation
import HandlerCatalog
import Logging
import PlanWatchRuntime
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// Only allowed systems get in: CURVE on every endpoint, the ZAP allow-list, and topic
/// prefixes per key — over real sockets.
@Suite struct SecurityTests {
    let server = try! CurveKeyPair.generate()
    let safetyPlatform = try! CurveKeyPair.generate()
    let console = try! CurveKeyPair.generate()
    let stranger = try! CurveKeyPair.generate()

    func harness() throws -> Harness {
        let (server, safety, console) = (server, safetyPlatform, console)
        return try Harness { config in
            config.curve = CurveConfig(
                secretKey: server.secretKey,
                clients: [
                    .init(name: "safety-platform", publicKey: safety.publicKey, publish: ["safety."]),
                    .init(name: "console", publicKey: console.publicKey, publish: []),
                ])
        }
    }

    func peer(_ h: Harness, _ keys: CurveKeyPair) -> Peer {
        Peer(context: h.peer.context, curve: (keys, server.publicKey))
    }

    func consoleSubscriber(_ h: Harness, _ prefixes: [String]) throws -> ZMQSocket {
        // The probe (one-frame messages → dead letters) must come from a key that may publish.
        let sub = try peer(h, console).socket(.sub)
        for p in prefixes + ["deadletter.schemaViolation"] { try sub.set(.subscribe(p)) }
        try sub.connect(h.endpoints.publish[0])
        let probe = try peer(h, safetyPlatform).dealer(to: h.endpoints.ack[0])
        defer { probe.close() }
        _ = try #require(
            try Wait.until(seconds: 30) {
                try probe.send([Array("safety.probe".utf8)])  // one frame: a schemaViolation, from a key that may publish safety.
                return try sub.receive(within: 0.3) { String(decoding: $0[0], as: UTF8.self) == "deadletter.schemaViolation" } != nil
            } ? sub : nil)
        try sub.set(.unsubscribe("deadletter.schemaViolation"))
        while try sub.receive(within: 0.05) != nil {}
        return sub
    }

    @Test func anAllowedKeyGetsThroughOnBothIngestPaths() throws {
        let h = try harness()
        defer { h.stop() }
        let sub = try consoleSubscriber(h, ["alert.safety"])
        let platform = peer(h, safetyPlatform)
        let dealer = try platform.dealer(to: h.endpoints.ack[0])
        #expect(try platform.ack(dealer, Fixtures.incident(id: "curve-1", incidentId: "INC-CURVE-1")) == ["ok", "curve-1", ""])
        #expect(try sub.receive(within: 30) { Published($0)?.string("fingerprint") == "safety.incident/INC-CURVE-1" } != nil)
        let pub = try platform.producer(to: h.endpoints.ingest[0])
        let m = Fixtures.incident(id: "curve-2", incidentId: "INC-CURVE-2")
        try pub.send([m.topic, m.body])
        #expect(try sub.receive(within: 30) { Published($0)?.string("fingerprint") == "safety.incident/INC-CURVE-2" } != nil)
    }

    @Test func anUnknownKeyIsRefusedAtTheHandshakeAndGetsNothingThrough() throws {
        let h = try harness()
        defer { h.stop() }
        let sub = try consoleSubscriber(h, ["alert."])
        let strangerDealer = try peer(h, stranger).dealer(to: h.endpoints.ack[0])
        let m = Fixtures.incident(id: "stranger-1", incidentId: "INC-STRANGER")
        try strangerDealer.send([m.topic, m.body])
        #expect(Wait.until(seconds: 30) { h.runtime.stats.zapDenied > 0 })
        // A plain (non-CURVE) client is refused too.
        let plain = try ZMQSocket(context: h.peer.context, type: .dealer)
        try plain.connect(h.endpoints.ack[0])
        try plain.send([m.topic, m.body])
        // An allowed event sent afterwards arrives; the stranger's never does.
        let platform = peer(h, safetyPlatform)
        let dealer = try platform.dealer(to: h.endpoints.ack[0])
        #expect(try platform.ack(dealer, Fixtures.incident(id: "after-stranger", incidentId: "INC-OK"))[0] == "ok")
        var seen: [String] = []
        _ = try sub.receive(within: 30) { frames in
            seen.append(Published(frames)?.string("fingerprint") ?? "")
            return seen.last == "safety.incident/INC-OK"
        }
        #expect(seen.contains("safety.incident/INC-OK"))
        #expect(!seen.contains("safety.incident/INC-STRANGER"))
        #expect(try strangerDealer.receive(wait: false) == nil)
        // An unknown subscriber receives nothing either.
        // Counted before connecting: the handshake and its denial run on libzmq's I/O threads
        // and, on a loaded machine, can finish before this thread reads the counter.
        let denied = h.runtime.stats.zapDenied
        let strangerSub = try peer(h, stranger).socket(.sub)
        try strangerSub.set(.subscribe(""))
        try strangerSub.connect(h.endpoints.publish[0])
        #expect(Wait.until(seconds: 30) { h.runtime.stats.zapDenied > denied })
        #expect(try platform.ack(dealer, Fixtures.incident(id: "after-stranger-sub", incidentId: "INC-OK2"))[0] == "ok")
        #expect(try sub.receive(within: 30) { Published($0)?.string("fingerprint") == "safety.incident/INC-OK2" } != nil)
        #expect(try strangerSub.receive(wait: false) == nil)
    }

    @Test func aKnownKeyPublishingOutsideItsPrefixesIsUnauthorizedOnBothPaths() throws {
        let h = try harness()
        defer { h.stop() }
        let sub = try consoleSubscriber(h, ["deadletter.unauthorized"])
        let platform = peer(h, safetyPlatform)
        let dealer = try platform.dealer(to: h.endpoints.ack[0])
        var census = String(decoding: Fixtures.incident(id: "x").body, as: UTF8.self)
        census = census.replacingOccurrences(of: "safety.incident", with: "enrolment.census")
        let reply = try platform.ack(dealer, (Array("enrolment.census.370303".utf8), Array(census.utf8)))
        #expect(reply[0] == "rejected")
        #expect(reply[2] == "unauthorized: client 'safety-platform' may publish only safety.; topic enrolment.census.370303")
        let letter = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(letter.topic == "deadletter.unauthorized")

        let pub = try platform.producer(to: h.endpoints.ingest[0])
        try pub.send([Array("enrolment.census.370303".utf8), Array(census.utf8)])
        let viaSub = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(viaSub.topic == "deadletter.unauthorized")

        // A subscribe-only key may publish nothing.
        let consolePeer = peer(h, console)
        let consoleDealer = try consolePeer.dealer(to: h.endpoints.ack[0])
        let refused = try consolePeer.ack(consoleDealer, Fixtures.incident(id: "console-1"))
        #expect(refused[0] == "rejected" && refused[2].contains("may publish nothing (subscribe only)"))
    }

    @Test func plaintextBeyondLoopbackIsRefusedUnlessAllowed() throws {
        let directory = TemporaryDirectory()
        var config = RuntimeConfig()
        config.ingestBind = ["tcp://0.0.0.0:*"]
        config.ackBind = ["tcp://127.0.0.1:*"]
        config.publishBind = ["tcp://127.0.0.1:*"]
        config.snapshotBind = ["tcp://127.0.0.1:*"]
        config.journalPath = directory.path + "/j.sqlite"
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        #expect {
            try Runtime(config: config, handlers: HandlerCatalog.builtIn(), logger: logger).start()
        } throws: { "\($0)".contains("refusing to bind tcp://0.0.0.0:* without CURVE") }
        config.allowPlaintext = true
        let runtime = Runtime(config: config, handlers: HandlerCatalog.builtIn(), logger: logger)
        try runtime.start()
        runtime.stop()
    }
}
