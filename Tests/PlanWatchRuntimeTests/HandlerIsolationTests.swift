import Foundation
import HandlerCatalog
import HandlerKit
import PlanWatchTestSupport
import Testing

/// A handler that counts incidents and fails on the ones whose school is `370303-BOOM`.
struct FragileHandler: Handler {
    struct State: Codable, Sendable, Equatable { var seen = 0 }
    struct Boom: Error, CustomStringConvertible { var description: String { "boom: cannot handle this school" } }
    var name: String { "Fragile" }
    var eventTypes: [String] { [EventType.safetyIncident] }
    func makeInitialState() -> State { State() }
    func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        guard case .safetyIncident(let i) = event.payload else { return [] }
        state.seen += 1  // changed before the failure: the host must put it back
        if i.schoolId.hasSuffix("BOOM") { throw Boom() }
        return [
            .indicator(
                IndicatorUpdate(
                    indicator: "test.seen", scope: .district, region: event.region, value: Double(state.seen),
                    asOf: context.now))
        ]
    }
}

@Suite struct HandlerIsolationTests {
    @Test func aThrowingHandlerDeadLettersThatEventForItselfOnly() throws {
        let h = try Harness(handlers: HandlerCatalog.builtIn() + [FragileHandler()])
        defer { h.stop() }
        let sub = try h.subscriber(["alert.", "indicator.test", "deadletter.handlerFailed"])
        let dealer = try h.dealer()
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "f-1", incidentId: "I-1"))[0] == "ok")
        var got = [try #require(try sub.receive(within: 30).flatMap(Published.init))]
        got.append(try #require(try sub.receive(within: 30).flatMap(Published.init)))
        #expect(got.contains { $0.topic == "indicator.test.seen.370303" && $0.body["value"] == .integer(1) })

        // School 370399-BOOM: region 370399, so the school id ends with BOOM.
        let boom = Fixtures.incident(id: "f-2", region: "370399", incidentId: "I-2")
        var text = String(decoding: boom.body, as: UTF8.self)
        text = text.replacingOccurrences(of: "370399-0042", with: "370399-BOOM")
        #expect(try h.peer.ack(dealer, (boom.topic, Array(text.utf8)))[0] == "ok")
        var afterBoom: [Published] = []
        for _ in 0..<2 { afterBoom.append(try #require(try sub.receive(within: 30).flatMap(Published.init))) }
        let letter = try #require(afterBoom.first { $0.topic == "deadletter.handlerFailed" })
        #expect(letter.string("reason") == "handlerFailed")
        #expect(letter.string("detail") == "Fragile: boom: cannot handle this school")
        // CampusSafety still alerted on the same event.
        #expect(afterBoom.contains { $0.string("fingerprint") == "safety.incident/I-2" })

        // The fragile handler's state was put back: the next incident is its second, not third.
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "f-3", incidentId: "I-3"))[0] == "ok")
        var afterNext: [Published] = []
        for _ in 0..<2 { afterNext.append(try #require(try sub.receive(within: 30).flatMap(Published.init))) }
        #expect(afterNext.contains { $0.topic == "indicator.test.seen.370303" && $0.body["value"] == .integer(2) })
    }
}
