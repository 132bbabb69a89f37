import DigitalInfrastructure
import Foundation
import HandlerCatalog
import PlanWatchModel
import PlanWatchSimulator
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// The Clone pattern: a subscriber that joins mid-stream, takes the snapshot and applies
/// only newer `seq` ends with exactly the daemon's state.
@Suite struct SnapshotTests {
    /// A late joiner's view: latest indicator bodies by topic, firing alerts by fingerprint.
    struct View: Equatable {
        var indicators: [String: String] = [:]
        var alerts: [String: String] = [:]
        var seq: Int64 = 0

        mutating func apply(topic: String, body: [UInt8]) {
            let text = String(decoding: body, as: UTF8.self)
            guard let o = Fixtures.object(body) else { return }
            if topic.hasPrefix("indicator.") {
                indicators[topic] = text
            } else if topic.hasPrefix("alert."), case .string(let fp)? = o["fingerprint"] {
                alerts[fp] = o["status"] == .string("resolved") ? nil : text
            }
        }
    }

    static func snapshot(_ dealer: ZMQSocket, prefix: String) throws -> View {
        try dealer.send([Array("snapshot".utf8), Array(prefix.utf8)])
        var view = View()
        while let frames = try dealer.receive(within: 30) {
            let topic = String(decoding: frames[0], as: UTF8.self)
            if topic == "end" {
                view.seq = Int64(String(decoding: frames[1], as: UTF8.self)) ?? -1
                return view
            }
            view.apply(topic: topic, body: frames[1])
        }
        throw TestFailure("no end of snapshot")
    }

    @Test func aLateJoinerEndsWithExactlyTheDaemonsState() throws {
        let h = try Harness(handlers: HandlerCatalog.builtIn() + [DigitalInfrastructureHandler()], clock: .event)
        defer { h.stop() }
        let producer = try h.dealer()
        let events = Simulator(seed: 5, schoolsPerDistrict: 6, days: 150, families: Set(Simulator.Family.allCases).subtracting([.finance])).events()
        let half = events.count / 2
        for e in events[..<half] { try producer.send([Array(e.topic.utf8), e.body]) }
        for _ in 0..<half { _ = try #require(try producer.receive(within: 60)) }

        // Join: subscribe first, then ask for the snapshot, then apply only newer seq.
        let sub = try h.subscriber([""])
        let snapshotter = try h.peer.dealer(to: h.endpoints.snapshot[0])
        for e in events[half...] { try producer.send([Array(e.topic.utf8), e.body]) }
        var view = try Self.snapshot(snapshotter, prefix: "")
        #expect(view.seq > 0)
        #expect(!view.indicators.isEmpty)
        var acked = 0
        while acked < events.count - half, try producer.receive(within: 60) != nil { acked += 1 }
        // Catch up with the daemon: apply newer messages until the view is at the snapshot's seq
        // (the daemon may still move on with clock ticks; then take its newer snapshot).
        var truth = try Self.snapshot(snapshotter, prefix: "")
        let deadline = Date().addingTimeInterval(60)
        while view.seq != truth.seq && Date() < deadline {
            if view.seq > truth.seq {
                truth = try Self.snapshot(snapshotter, prefix: "")
                continue
            }
            guard let frames = try sub.receive(within: 5), let p = Published(frames) else {
                truth = try Self.snapshot(snapshotter, prefix: "")
                continue
            }
            guard p.seq > view.seq else { continue }
            view.apply(topic: p.topic, body: frames[1])
            view.seq = p.seq
        }
        #expect(view.seq == truth.seq)
        let differentIndicators = Set(view.indicators.keys).union(truth.indicators.keys).filter { view.indicators[$0] != truth.indicators[$0] }
        let differentAlerts = Set(view.alerts.keys).union(truth.alerts.keys).filter { view.alerts[$0] != truth.alerts[$0] }
        #expect(differentIndicators.isEmpty, "\(differentIndicators.sorted().prefix(5))")
        #expect(differentAlerts.isEmpty, "\(differentAlerts.sorted().prefix(5))")
        #expect(view.alerts.count == truth.alerts.count && !truth.alerts.isEmpty)
    }

    @Test func aPrefixNarrowsTheSnapshotAndReqGetsItInOneMessage() throws {
        let h = try Harness()
        defer { h.stop() }
        let dealer = try h.dealer()
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "s-1", region: "370303", incidentId: "INC-S1"))[0] == "ok")
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "s-2", region: "370305", incidentId: "INC-S2"))[0] == "ok")
        let snapshotter = try h.peer.dealer(to: h.endpoints.snapshot[0])
        let zhangdian = try Self.snapshot(snapshotter, prefix: "alert.safety.370303")
        #expect(Set(zhangdian.alerts.keys) == ["safety.incident/INC-S1"])
        let req = try ZMQSocket(context: h.peer.context, type: .req)
        try req.connect(h.endpoints.snapshot[0])
        try req.send([Array("snapshot".utf8), Array("alert.".utf8)])
        let reply = try #require(try req.receive(within: 30)).map { String(decoding: $0, as: UTF8.self) }
        #expect(reply.count == 6)  // two [topic, body] pairs and ["end", seq]
        #expect(reply[4] == "end")
        try req.send([Array("nonsense".utf8), Array("x".utf8)])
        #expect(try req.receive(within: 30)?.first == Array("error".utf8))
    }
}
