import Foundation
import HandlerKit

/// One handler with the state the host keeps for it. Used by the pipeline thread only.
class HandlerSlot {
    let name: String
    let eventTypes: Set<String>
    let manifest: HandlerManifest

    init(name: String, eventTypes: Set<String>, manifest: HandlerManifest) {
        self.name = name
        self.eventTypes = eventTypes
        self.manifest = manifest
    }

    /// True when the handler consumes events of `type` (`"*"` in its types: every type).
    func accepts(_ type: String) -> Bool { eventTypes.contains(type) || eventTypes.contains("*") }

    /// Handles `event`, read from journal `entry` (whose bytes a plugin decodes itself).
    func handle(_ event: Event, entry: JournalEntry, context: HandlerContext) throws -> [HandlerOutput] { [] }
    func tick(context: HandlerContext) throws -> [HandlerOutput] { [] }
    /// The state as it is now, to be encoded later (on another thread): a value copy, cheap.
    func stateSnapshot() throws -> @Sendable () throws -> Data { { Data() } }
    func restoreState(_ data: Data?) throws {}
    /// True when `data` decodes to the state the handler holds now.
    func stateMatches(_ data: Data?) -> Bool { false }
    /// What makes up one of the handler's indicator values, if it is the handler's.
    func explain(_ indicator: String, region: RegionCode) -> IndicatorExplanation? { nil }

    /// Wraps any handler, opening its existential once.
    static func make(_ handler: any Handler) -> HandlerSlot { typed(handler) }

    private static func typed<H: Handler>(_ handler: H) -> HandlerSlot { TypedSlot(handler) }
}

private final class TypedSlot<H: Handler>: HandlerSlot {
    let handler: H
    var state: H.State

    init(_ handler: H) {
        self.handler = handler
        state = handler.makeInitialState()
        super.init(name: handler.name, eventTypes: Set(handler.eventTypes), manifest: handler.manifest)
    }

    override func handle(_ event: Event, entry: JournalEntry, context: HandlerContext) throws -> [HandlerOutput] {
        try handler.handle(event, state: &state, context: context)
    }

    override func tick(context: HandlerContext) throws -> [HandlerOutput] {
        try handler.tick(state: &state, context: context)
    }

    override func explain(_ indicator: String, region: RegionCode) -> IndicatorExplanation? {
        handler.explain(indicator, region: region, state: state)
    }

    override func stateSnapshot() throws -> @Sendable () throws -> Data {
        let copy = state
        // Keys unsorted: a checkpoint is compared by value (stateMatches), never by bytes, and
        // sorting the keys of a million-class state costs seconds.
        return { try JSONEncoder().encode(copy) }
    }

    override func stateMatches(_ data: Data?) -> Bool {
        guard let data else { return state == handler.makeInitialState() }
        return (try? JSONDecoder().decode(H.State.self, from: data)) == state
    }

    override func restoreState(_ data: Data?) throws {
        guard let data else {
            state = handler.makeInitialState()
            return
        }
        state = try JSONDecoder().decode(H.State.self, from: data)
    }
}
