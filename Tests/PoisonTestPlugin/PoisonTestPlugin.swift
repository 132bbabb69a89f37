// A handler plugin for the reliability tests, loaded from a plugin directory like any other:
// it counts safety incidents, throws on those whose description contains "THROW", and kills
// the process (an arithmetic overflow, as a real bug would) on those that contain "TRAP".
import HandlerKit
import HandlerPluginABI

struct PoisonHandler: Handler {
    struct State: Codable, Sendable, Equatable {
        var seen: Int64 = 0
        var byRegion: [String: Int64] = [:]
    }
    struct Refused: Error, CustomStringConvertible { var description: String { "refused: the description asks to THROW" } }

    var name: String { "Poison" }
    var eventTypes: [String] { [EventType.safetyIncident] }
    func makeInitialState() -> State { State() }

    func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        guard case .safetyIncident(let incident) = event.payload else { return [] }
        // Changed before any failure: the host must put it back.
        state.seen += 1
        state.byRegion[event.region.code, default: 0] += 1
        let text = incident.description ?? ""
        if text.contains("THROW") { throw Refused() }
        if text.contains("TRAP") {
            // A bug a peer's value reaches: traps (SIGILL), in the plugin, on every replay too.
            let huge = Int64.max - Int64(text.utf8.count) + 1
            state.seen = huge + Int64(text.utf8.count)
        }
        return [
            .indicator(
                IndicatorUpdate(
                    indicator: "test.poison_seen", scope: .district, region: event.region,
                    value: Double(state.byRegion[event.region.code] ?? 0), asOf: context.now))
        ]
    }
}

@_cdecl("planwatch_plugin_handlerkit_version")
public func pluginHandlerKitVersion() -> UnsafePointer<CChar> { HandlerKitPlugin.version }

@_cdecl("planwatch_plugin_call")
public func pluginCall(
    _ op: Int32, _ instance: UnsafeMutableRawPointer?, _ input: UnsafePointer<UInt8>?, _ count: Int,
    _ output: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ outputCount: UnsafeMutablePointer<Int>?
) -> UnsafeMutableRawPointer? {
    HandlerKitPlugin.call(PoisonHandler(), op, instance, input, count, output, outputCount)
}
