import Foundation
import HandlerKit
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// The whole path in one process, over real tcp loopback sockets and a real SQLite file.
@Suite struct EndToEndPathTests {
    @Test func incidentOverPubAndOverDealerBothRaiseContractAlerts() throws {
        let h = try Harness()
        defer { h.stop() }
        let sub = try h.subscriber(["alert."])
        let pub = try h.peer.producer(to: h.endpoints.ingest[0])
        let reportedAt = Fixtures.now
        let incident = Fixtures.incident(id: "pub-1", incidentId: "INC-PUB", reportedAt: reportedAt)
        try pub.send([incident.topic, incident.body])
        let viaPub = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(viaPub.topic == "alert.safety.370303")
        #expect(viaPub.string("fingerprint") == "safety.incident/INC-PUB")
        #expect(viaPub.string("rule") == "safety.incident")
        #expect(viaPub.string("status") == "firing")
        #expect(viaPub.string("level") == "orange")
        #expect(viaPub.body["previousLevel"] == .null)
        #expect(viaPub.string("region") == "370303")
        #expect(viaPub.body["subject"] == .object(["incidentId": "INC-PUB", "schoolId": "370303-0042"]))
        #expect(viaPub.string("summary")?.contains("食物中毒") == true)
        #expect(viaPub.string("planRef") == "City 2023 §22")
        #expect(viaPub.string("startsAt") == reportedAt)
        #expect(viaPub.string("updatedAt") == reportedAt)
        #expect(viaPub.body["endsAt"] == .null)
        #expect(viaPub.body["causes"] == .array(["pub-1"]))
        #expect(viaPub.seq > 0)
        // Every field of CONTRACT.md, plus only the fields added since (docs/contract.md: the alert desk's).
        #expect(Set(viaPub.body.members.map(\.key)) == [
            "fingerprint", "rule", "status", "level", "previousLevel", "region", "subject", "summary", "planRef",
            "startsAt", "updatedAt", "endsAt", "causes", "seq",
            "owner", "ackedBy", "ackedAt", "ackNote", "escalatedTo",
        ])
        #expect(viaPub.string("owner") == "school:370303-0042")

        let dealer = try h.dealer()
        let reply = try h.peer.ack(dealer, Fixtures.incident(id: "dealer-1", incidentId: "INC-DEALER", deaths: 3))
        #expect(reply == ["ok", "dealer-1", ""])
        let viaDealer = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(viaDealer.string("fingerprint") == "safety.incident/INC-DEALER")
        #expect(viaDealer.string("level") == "red")
        #expect(viaDealer.seq > viaPub.seq)
    }

    /// An `ok` is sent once what the event caused can be seen: the output thread publishes a
    /// batch, applies it to the output store and only then answers, while the pipeline goes on
    /// with the next batch. A producer that reads the store (a snapshot, the HTTP API) right
    /// after its `ok` finds its alert — with hundreds in flight, so that batches overlap.
    @Test func anOkComesOnceItsAlertIsInTheStore() throws {
        let h = try Harness()
        defer { h.stop() }
        let dealer = try h.dealer()
        let count = 400
        for i in 0..<count {
            let m = Fixtures.incident(id: "seen-\(i)", incidentId: "INC-SEEN-\(i)", category: "fire")
            try dealer.send([m.topic, m.body])
        }
        var notYetInTheStore: [String] = []
        for _ in 0..<count {
            let reply = try #require(try dealer.receive(within: 30)).map { String(decoding: $0, as: UTF8.self) }
            try #require(reply.count == 3 && reply[0] == "ok", "\(reply)")
            let n = reply[1].dropFirst("seen-".count)
            if h.runtime.outputs.firingAlert("safety.incident/INC-SEEN-\(n)") == nil { notYetInTheStore.append(reply[1]) }
        }
        #expect(notYetInTheStore.isEmpty, "answered ok before its alert was in the store")
    }

    @Test func reqSocketsAreServedWithTheirEnvelope() throws {
        let h = try Harness()
        defer { h.stop() }
        let req = try ZMQSocket(context: h.peer.context, type: .req)
        try req.connect(h.endpoints.ack[0])
        let m = Fixtures.incident(id: "req-1")
        try req.send([m.topic, m.body])
        let reply = try #require(try req.receive(within: 30))
        #expect(reply.map { String(decoding: $0, as: UTF8.self) } == ["ok", "req-1", ""])
    }

    @Test func sameSourceAndIdTwiceIsADuplicateAndChangesNothing() throws {
        let h = try Harness()
        defer { h.stop() }
        let sub = try h.subscriber(["alert."])
        let dealer = try h.dealer()
        let m = Fixtures.incident(id: "dup-1")
        #expect(try h.peer.ack(dealer, m)[0] == "ok")
        #expect(try h.peer.ack(dealer, m) == ["duplicate", "dup-1", "already recorded"])
        // Another source may use the same id.
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "dup-1", source: "other", incidentId: "INC-OTHER"))[0] == "ok")
        let first = try #require(try sub.receive(within: 30).flatMap(Published.init))
        let second = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(first.string("fingerprint") == "safety.incident/INC-2026-0311")
        #expect(second.string("fingerprint") == "safety.incident/INC-OTHER")
    }

    @Test func malformedAndOneFrameMessagesAreRejectedAndTheDaemonGoesOn() throws {
        let h = try Harness()
        defer { h.stop() }
        let sub = try h.subscriber(["alert.", "deadletter.malformedJson", "deadletter.topicMismatch"])
        let dealer = try h.dealer()
        try dealer.send([Array("safety.incident.370303".utf8), Array("{not json".utf8)])
        let bad = try #require(try dealer.receive(within: 30)).map { String(decoding: $0, as: UTF8.self) }
        #expect(bad[0] == "rejected")
        #expect(bad[2].hasPrefix("malformedJson:"))
        try dealer.send([Array("only-one-frame".utf8)])
        let one = try #require(try dealer.receive(within: 30)).map { String(decoding: $0, as: UTF8.self) }
        #expect(one == ["rejected", "", "schemaViolation: expected 2 frames [topic, body], got 1"])
        let wrongTopic = Fixtures.incident(id: "t-1")
        let mismatch = try h.peer.ack(dealer, (Array("safety.incident.370304".utf8), wrongTopic.body))
        #expect(mismatch[0] == "rejected" && mismatch[1] == "t-1" && mismatch[2].hasPrefix("topicMismatch:"))

        let letter = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(letter.topic == "deadletter.malformedJson")
        #expect(letter.string("reason") == "malformedJson")
        #expect(letter.string("topic") == "safety.incident.370303")
        #expect(letter.string("body") == "{not json")
        #expect(letter.string("detail")?.isEmpty == false)
        #expect(letter.string("receivedAt") != nil)
        let mismatchLetter = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(mismatchLetter.topic == "deadletter.topicMismatch")
        #expect(mismatchLetter.seq > letter.seq)

        // Still alive and well.
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "after-bad"))[0] == "ok")
        let alert = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(alert.topic == "alert.safety.370303")
    }

    @Test func acknowledgedEventsSurviveARestartAndSeqKeepsIncreasing() throws {
        let directory = TemporaryDirectory()
        var lastSeq: Int64 = 0
        do {
            let h = try Harness(directory: directory)
            let sub = try h.subscriber(["alert."])
            let dealer = try h.dealer()
            #expect(try h.peer.ack(dealer, Fixtures.incident(id: "r-1", incidentId: "INC-R1"))[0] == "ok")
            lastSeq = try #require(try sub.receive(within: 30).flatMap(Published.init)).seq
            h.stop()
        }
        let h = try Harness(directory: directory)
        defer { h.stop() }
        let sub = try h.subscriber(["alert."])
        let dealer = try h.dealer()
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "r-1", incidentId: "INC-R1"))[0] == "duplicate")
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "r-2", incidentId: "INC-R2"))[0] == "ok")
        let next = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(next.string("fingerprint") == "safety.incident/INC-R2")
        #expect(next.seq > lastSeq)
        // The handler's state came back too: resolving the first incident resolves its alert.
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "r-3", incidentId: "INC-R1", status: "resolved"))[0] == "ok")
        let resolved = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(resolved.string("fingerprint") == "safety.incident/INC-R1")
        #expect(resolved.string("status") == "resolved")
    }
}
