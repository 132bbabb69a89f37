#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

import HandlerKit
import PlanWatchWire

/// Building a handler as a dynamic plugin that `planwatchd` loads at start.
///
/// The boundary is a small C ABI, so that a plugin and the daemon need not share Swift
/// type metadata: events go in as their JSON body, outputs and state come back as JSON.
/// A plugin module exports two functions, written once:
///
/// ```swift
/// import HandlerKit
///
/// @_cdecl("planwatch_plugin_handlerkit_version")
/// public func pluginVersion() -> UnsafePointer<CChar> { HandlerKitPlugin.version }
///
/// @_cdecl("planwatch_plugin_call")
/// public func pluginCall(
///     _ op: Int32, _ instance: UnsafeMutableRawPointer?, _ input: UnsafePointer<UInt8>?, _ count: Int,
///     _ output: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ outputCount: UnsafeMutablePointer<Int>?
/// ) -> UnsafeMutableRawPointer? {
///     HandlerKitPlugin.call(MyHandler(), op, instance, input, count, output, outputCount)
/// }
/// ```
///
/// and is built as a `.dynamic` library product. The daemon refuses a plugin whose
/// ``version`` differs from its own, naming both.
public enum HandlerKitPlugin {
    /// The HandlerKit (and plugin ABI) version this library was built as.
    public static let versionString = "1.3.0"

    /// ``versionString`` as a C string, for `planwatch_plugin_handlerkit_version`.
    public static var version: UnsafePointer<CChar> { versionCString }

    /// The operations of `planwatch_plugin_call` (ABI 1.3: `explain` and `stateMatches` added).
    public enum Operation: Int32 {
        case create = 0, info = 1, handle = 2, tick = 3, encodeState = 4, restoreState = 5, destroy = 6, validate = 7, configure = 8,
            explain = 9
        /// Whether the state equals the one encoded in the input (`{"matches": true|false}`):
        /// decoded and compared by the plugin, since the JSON of a dictionary or a set is in
        /// hash order, which differs from process to process.
        case stateMatches = 10
    }

    /// Serves one call of the C ABI for handler `handler`. Output buffers are `malloc`ed;
    /// the caller frees them with `free`.
    public static func call<H: Handler>(
        _ handler: H, _ op: Int32, _ instance: UnsafeMutableRawPointer?, _ input: UnsafePointer<UInt8>?, _ count: Int,
        _ output: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ outputCount: UnsafeMutablePointer<Int>?
    ) -> UnsafeMutableRawPointer? {
        guard let operation = Operation(rawValue: op) else { return nil }
        if operation == .create {
            return Unmanaged.passRetained(Instance(handler: handler)).toOpaque()
        }
        if operation == .validate {  // stateless: any thread, no instance
            let bytes = input.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
            return write(Instance<H>.validate(handler, bytes), output, outputCount)
        }
        guard let instance else { return nil }
        let box = Unmanaged<Instance<H>>.fromOpaque(instance)
        if operation == .destroy {
            box.release()
            return nil
        }
        let bytes = input.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
        _ = write(box.takeUnretainedValue().serve(operation, bytes), output, outputCount)
        return instance
    }

    private static func write(
        _ reply: [UInt8], _ output: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ outputCount: UnsafeMutablePointer<Int>?
    ) -> UnsafeMutableRawPointer? {
        // malloc'ed here, freed by the host with free().
        let buffer = malloc(max(reply.count, 1))!.assumingMemoryBound(to: UInt8.self)
        reply.withUnsafeBufferPointer { if let base = $0.baseAddress { buffer.update(from: base, count: reply.count) } }
        output?.pointee = buffer
        outputCount?.pointee = reply.count
        return nil
    }

    final class Instance<H: Handler> {
        let handler: H
        var state: H.State
        let decoder: EventDecoder
        /// The host's holiday calendar and rule deadlines, sent once by `configure`.
        var settings = Settings()

        struct Settings: Codable {
            var calendar = WorkCalendar()
            var timings = RuleTimings()
            var plans: [Plan] = []
            var atRiskMarginPoints: Double = 10
        }

        func context(_ request: JSONObject) throws -> HandlerContext {
            HandlerContext(
                now: try Self.now(request), calendar: settings.calendar, timings: settings.timings,
                plans: PlanSet(plans: settings.plans, atRiskMarginPoints: settings.atRiskMarginPoints))
        }

        init(handler: H) {
            self.handler = handler
            state = handler.makeInitialState()
            decoder = EventDecoder(extraTypes: handler.payloadValidators)
        }

        func serve(_ op: Operation, _ input: [UInt8]) -> [UInt8] {
            do {
                switch op {
                case .info:
                    var validated: [JSONValue] = []
                    for type in handler.payloadValidators.keys.sorted() { validated.append(.string(type)) }
                    return JSONWriter.bytes(.object([
                        "name": .string(handler.name), "eventTypes": .array(handler.eventTypes.map { .string($0) }),
                        "payloadTypes": .array(validated), "handlerKitVersion": .string(HandlerKitPlugin.versionString),
                        "manifest": try JSONCoding.value(handler.manifest),
                    ]))
                case .handle:
                    let request = try Self.request(input)
                    guard case .string(let topic)? = request["topic"], case .string(let body)? = request["body"] else {
                        return Self.failure("handle needs topic and body")
                    }
                    let event = try decoder.decode(topic: Array(topic.utf8), body: Array(body.utf8)).get()
                    let outputs = try handler.handle(event, state: &state, context: try context(request))
                    return Self.success(outputs)
                case .tick:
                    let outputs = try handler.tick(state: &state, context: try context(try Self.request(input)))
                    return Self.success(outputs)
                case .encodeState:
                    return try JSONCoding.encode(state)
                case .restoreState:
                    state = input.isEmpty ? handler.makeInitialState() : try JSONCoding.decode(H.State.self, from: input)
                    return Self.success([])
                case .configure:
                    settings = try JSONCoding.decode(Settings.self, from: input)
                    return Self.success([])
                case .stateMatches:
                    let other = input.isEmpty ? handler.makeInitialState() : try JSONCoding.decode(H.State.self, from: input)
                    return JSONWriter.bytes(.object(["matches": .bool(other == state)]))
                case .explain:
                    let request = try Self.request(input)
                    guard case .string(let indicator)? = request["indicator"], case .string(let code)? = request["region"],
                        let region = RegionCode(code)
                    else { return Self.failure("explain needs indicator and region") }
                    let explanation = handler.explain(indicator, region: region, state: state)
                    return JSONWriter.bytes(.object(["explanation": try explanation.map { try JSONCoding.value($0) } ?? .null]))
                case .create, .destroy, .validate:
                    return []
                }
            } catch {
                return Self.failure("\(error)")
            }
        }

        static func validate(_ handler: H, _ input: [UInt8]) -> [UInt8] {
            do {
                let request = try Self.request(input)
                guard case .string(let type)? = request["type"], let validator = handler.payloadValidators[type] else {
                    return failure("this plugin does not validate that type")
                }
                try validator(try FieldReader(request["payload"] ?? .null, path: "payload"))
                return success([])
            } catch {
                return failure("\(error)".replacingOccurrences(of: "schemaViolation: ", with: ""))
            }
        }

        static func request(_ input: [UInt8]) throws -> JSONObject {
            guard case .object(let o) = try JSONParser.parse(input) else { throw Rejection(.malformedJson, "request is not an object") }
            return o
        }

        static func now(_ request: JSONObject) throws -> Timestamp {
            guard case .integer(let ms)? = request["now"] else { throw Rejection(.schemaViolation, "request needs now") }
            return Timestamp(epochMilliseconds: ms)
        }

        static func success(_ outputs: [HandlerOutput]) -> [UInt8] {
            let items: [JSONValue] = outputs.map { output in
                switch output {
                case .alert(let a): .object(["alert": (try? JSONCoding.value(a)) ?? .null])
                case .indicator(let i): .object(["indicator": (try? JSONCoding.value(i)) ?? .null])
                }
            }
            return JSONWriter.bytes(.object(["outputs": .array(items)]))
        }

        static func failure(_ message: String) -> [UInt8] { JSONWriter.bytes(.object(["error": .string(message)])) }
    }
}

// Written once, never changed: safe to share.
nonisolated(unsafe) private let versionCString: UnsafePointer<CChar> = {
    let bytes = Array(HandlerKitPlugin.versionString.utf8CString)
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
    pointer.initialize(from: bytes, count: bytes.count)
    return UnsafePointer(pointer)
}()
