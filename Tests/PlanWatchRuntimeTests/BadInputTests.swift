import Foundation
import PlanWatchModel
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// Bad input is data, not a crash: over the wire, every decoder reason is dead-lettered
/// with its detail, answered `rejected` on the acknowledged path, and the daemon goes on.
@Suite struct BadInputTests {
    static let topic = Array("safety.incident.370303".utf8)

    static var cases: [(name: String, frames: [[UInt8]], reason: String, detail: String)] {
        let valid = Fixtures.incident(id: "bad-base").body
        var invalidUTF8 = Array("{\"id\":\"".utf8)
        invalidUTF8 += [0xFF, 0xFE]
        invalidUTF8 += Array("\"}".utf8)
        let validText = String(decoding: valid, as: UTF8.self)
        return [
            ("one frame", [topic], "schemaViolation", "expected 2 frames [topic, body], got 1"),
            ("three frames", [topic, valid, []], "schemaViolation", "expected 2 frames [topic, body], got 3"),
            ("oversized", [topic, Array(repeating: UInt8(ascii: " "), count: 70_000) + valid], "tooLarge", "limit is 65536"),
            ("invalid UTF-8", [topic, invalidUTF8], "malformedJson", "invalid UTF-8 at byte 7"),
            ("deep nesting", [topic, Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)],
             "malformedJson", "nesting deeper than 32"),
            ("huge number", [topic, Array("{\"id\":\"x\",\"seq\":1e400}".utf8)], "malformedJson", "number out of range"),
            ("duplicate key", [topic, Array(validText.replacingOccurrences(of: "{\"id\":", with: "{\"id\":\"dup\",\"id\":").utf8)],
             "malformedJson", "duplicate key \"id\""),
            ("unknown type", [Array("library.loan.370303".utf8), Array(validText.replacingOccurrences(of: "safety.incident", with: "library.loan").utf8)],
             "unknownType", "\"library.loan\" is not one of"),
            ("topic mismatch", [Array("safety.incident.370305".utf8), valid], "topicMismatch", "expected \"safety.incident.370303\""),
            ("missing field", [topic, Array(validText.replacingOccurrences(of: "\"source\":\"anquan\",", with: "").utf8)],
             "schemaViolation", "source: required field is missing"),
        ]
    }

    @Test func everyReasonIsDeadLetteredAndAnsweredAndTheDaemonGoesOn() throws {
        let h = try Harness()
        defer { h.stop() }
        let sub = try h.subscriber(["deadletter.", "alert."])
        let dealer = try h.dealer()
        for c in Self.cases {
            try dealer.send(c.frames)
            let reply = try #require(try dealer.receive(within: 30), "\(c.name): no reply")
            let text = reply.map { String(decoding: $0, as: UTF8.self) }
            #expect(text[0] == "rejected", "\(c.name)")
            #expect(text.last?.hasPrefix("\(c.reason):") == true, "\(c.name): \(text)")
            #expect(text.last?.contains(c.detail) == true, "\(c.name): \(text)")
            let letter = try #require(
                try sub.receive(within: 30) { Published($0)?.topic.hasPrefix("deadletter.") == true }.flatMap(Published.init),
                "\(c.name): no dead letter")
            #expect(letter.topic == "deadletter.\(c.reason)", "\(c.name)")
            #expect(letter.string("detail")?.contains(c.detail) == true, "\(c.name)")
        }
        // The same bytes again are rejected again: a rejection is never turned into an accept.
        try dealer.send(Self.cases[3].frames)
        #expect(try dealer.receive(within: 30).map { String(decoding: $0[0], as: UTF8.self) } == "rejected")
        // And a good event still goes through.
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "good-after-bad"))[0] == "ok")
    }

    @Test func aFloodBeyondTheQueueIsAnsweredBusyAndNothingIsLost() throws {
        let h = try Harness { config in
            config.queueCapacity = 4
            config.maxBatch = 4
        }
        defer { h.stop() }
        let dealer = try h.dealer()
        let count = 400
        var frames: [String: [[UInt8]]] = [:]
        for i in 0..<count {
            let m = Fixtures.incident(id: "flood-\(i)", incidentId: "INC-F\(i)")
            frames["flood-\(i)"] = [m.topic, m.body]
            try dealer.send([m.topic, m.body])
        }
        var ok = Set<String>()
        var busy = 0
        while ok.count < count, let reply = try dealer.receive(within: 30) {
            let status = String(decoding: reply[0], as: UTF8.self)
            let id = String(decoding: reply[1], as: UTF8.self)
            if status == "ok" || status == "duplicate" {
                ok.insert(id)
            } else {
                #expect(status == "busy")
                busy += 1
                try dealer.send(frames[id]!)  // try again later: here, at once
            }
        }
        #expect(busy > 0)
        #expect(ok.count == count)
    }

    @Test func aSubscriberThatStopsReadingDoesNotStallIngest() throws {
        let h = try Harness { config in config.sendHighWaterMark = 50 }
        defer { h.stop() }
        let stalled = try ZMQSocket(context: h.peer.context, type: .sub)
        try stalled.set(.receiveHighWaterMark(10))
        try stalled.set(.subscribe(""))
        try stalled.connect(h.endpoints.publish[0])
        let reader = try h.subscriber(["alert.safety"])
        let dealer = try h.dealer()
        let count = 3000
        for i in 0..<count {
            let m = Fixtures.incident(id: "slow-\(i)", incidentId: "INC-S\(i)")
            try dealer.send([m.topic, m.body])
        }
        var acked = 0
        while acked < count, let reply = try dealer.receive(within: 30) {
            if String(decoding: reply[0], as: UTF8.self) == "ok" { acked += 1 }
        }
        #expect(acked == count)
        // The reading subscriber (which lost messages of the flood at its own HWM, as PUB does)
        // drains what it has, and then gets the next alert at once: nothing is stuck.
        while try reader.receive(within: 0.5) != nil {}
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "slow-last", incidentId: "INC-LAST"))[0] == "ok")
        #expect(try sub(reader, fingerprint: "safety.incident/INC-LAST"))
    }

    func sub(_ socket: ZMQSocket, fingerprint: String) throws -> Bool {
        try socket.receive(within: 60) { Published($0)?.string("fingerprint") == fingerprint } != nil
    }
}
