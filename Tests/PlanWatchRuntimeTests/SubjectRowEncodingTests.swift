import DigitalInfrastructure
import Foundation
import HandlerCatalog
import HandlerKit
import PlanWatchModel
@testable import PlanWatchRuntime
import PlanWatchSimulator
import PlanWatchWire
import Testing

/// A checkpoint writes each subject's value with `JSONWriter.encode`, not `JSONEncoder`, and a
/// restart reads it with `JSONValue.decode`, not `JSONDecoder`: every built-in handler's state,
/// after a simulated stretch of a school year, must read back from those rows as it was.
@Suite struct SubjectRowEncodingTests {
    func roundTrip<H: Handler>(_ handler: H, events: [Event]) throws -> (rows: Int, equal: Bool) {
        var state = handler.makeInitialState()
        let types = Set(handler.eventTypes)
        for event in events where types.contains(event.type) || types.contains("*") {
            _ = try handler.handle(event, state: &state, context: HandlerContext(now: event.occurredAt, plans: ReplayTests.zibo))
        }
        let (json, rows) = try checkpointed(state, full: true)
        // Read as a restart reads them; every row by the fast reader, none left to JSONDecoder.
        let (back, source) = try SubjectCoding.read(H.State.self, from: json, subjects: HandlerSubjects(full: true, rows: rows))
        #expect(source.readByJSONDecoder == 0, "\(handler.name): \(source.readByJSONDecoder) of \(rows.count) rows read by JSONDecoder")
        return (rows.count, back == state)
    }

    @Test func everyHandlersStateReadsBackFromTheRowsAsItWas() throws {
        let handlers = HandlerCatalog.builtIn() + [DigitalInfrastructureHandler()]
        let decoder = EventDecoder(extraTypes: handlers.reduce(into: [:]) { all, h in all.merge(h.payloadValidators) { a, _ in a } })
        let events = Simulator(seed: 3, schoolsPerDistrict: 6, days: 150, families: Set(Simulator.Family.allCases).subtracting([.finance]))
            .events()
            .compactMap { simulated -> Event? in
                guard case .success(let event) = decoder.decode(topic: Array(simulated.topic.utf8), body: simulated.body) else { return nil }
                return event
            }
        #expect(events.count > 1000)
        var rows = 0
        for handler in handlers {
            let (count, equal) = try roundTrip(handler, events: events)
            #expect(equal, "\(handler.name)'s state read back from its rows differs")
            rows += count
        }
        #expect(rows > 1000)
    }
}
