import Foundation
import HandlerKit
import PlanWatchWire

/// A plugin's handler in the pipeline: state lives in the plugin, checkpointed as its JSON.
final class PluginSlot: HandlerSlot {
    private let library: PluginLibrary
    private let instance: UnsafeMutableRawPointer?

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(_ library: PluginLibrary, calendar: WorkCalendar, timings: RuleTimings, plans: PlanSet) {
        self.library = library
        instance = library.makeInstance()
        super.init(name: library.name, eventTypes: Set(library.eventTypes), manifest: library.manifest)
        struct Settings: Codable {
            var calendar: WorkCalendar
            var timings: RuleTimings
            var plans: [Plan]
            var atRiskMarginPoints: Double
        }
        let settings = Settings(calendar: calendar, timings: timings, plans: plans.plans, atRiskMarginPoints: plans.atRiskMarginPoints)
        if let settings = try? JSONCoding.encode(settings) {
            _ = library.invoke(.configure, instance, settings)
        }
    }

    deinit { _ = library.invoke(.destroy, instance, []) }

    override func handle(_ event: Event, entry: JournalEntry, context: HandlerContext) throws -> [HandlerOutput] {
        // The plugin decodes the event itself from the journaled bytes, as the daemon did.
        try outputs(
            library.invoke(
                .handle, instance,
                JSONWriter.bytes(.object([
                    "topic": .string(String(decoding: entry.topic, as: UTF8.self)),
                    "body": .string(String(decoding: entry.body, as: UTF8.self)), "now": .integer(context.now.epochMilliseconds),
                ]))))
    }

    override func tick(context: HandlerContext) throws -> [HandlerOutput] {
        try outputs(library.invoke(.tick, instance, JSONWriter.bytes(.object(["now": .integer(context.now.epochMilliseconds)]))))
    }

    /// What makes up one of the plugin's indicator values (`planwatch explain`); nil when the
    /// plugin has none (or was built before the ABI could ask).
    override func explain(_ indicator: String, region: RegionCode) -> IndicatorExplanation? {
        let request = JSONWriter.bytes(.object(["indicator": .string(indicator), "region": .string(region.code)]))
        guard case .object(let o)? = try? JSONParser.parse(library.invoke(.explain, instance, request)), let e = o["explanation"], e != .null
        else { return nil }
        return try? JSONCoding.decode(IndicatorExplanation.self, from: JSONWriter.bytes(e))
    }

    /// The plugin holds its state and is not thread-safe: encoded here, on the pipeline thread.
    override func stateSnapshot() throws -> @Sendable () throws -> (state: Data, subjects: HandlerSubjects?) {
        let data = Data(library.invoke(.encodeState, instance, []))
        return { (data, nil) }
    }

    override func restoreState(_ data: Data?, subjects: HandlerSubjects?) throws {
        _ = try outputs(library.invoke(.restoreState, instance, data.map { [UInt8]($0) } ?? []))
    }

    override func stateMatches(_ data: Data?, subjects: HandlerSubjects?) -> Bool {
        guard let data else { return false }
        let reply = library.invoke(.stateMatches, instance, [UInt8](data))
        guard case .object(let o)? = try? JSONParser.parse(reply), case .bool(let matches)? = o["matches"] else { return false }
        return matches
    }

    private func outputs(_ reply: [UInt8]) throws -> [HandlerOutput] {
        guard case .object(let o) = try JSONParser.parse(reply) else { throw Failure(description: "plugin reply is not an object") }
        if case .string(let message)? = o["error"] { throw Failure(description: message) }
        guard case .array(let items)? = o["outputs"] else { return [] }
        return try items.map { item in
            guard case .object(let i) = item else { throw Failure(description: "plugin output is not an object") }
            if let alert = i["alert"] { return .alert(try JSONCoding.decode(Alert.self, from: JSONWriter.bytes(alert))) }
            if let update = i["indicator"] {
                return .indicator(try JSONCoding.decode(IndicatorUpdate.self, from: JSONWriter.bytes(update)))
            }
            throw Failure(description: "plugin output is neither alert nor indicator")
        }
    }
}
