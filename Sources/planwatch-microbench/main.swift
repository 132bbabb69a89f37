// Microbenchmarks of the daemon's stages, one at a time, with google/swift-benchmark:
// decoding each event type, each built-in handler on its own events, encoding the outputs,
// and the journal's batched append. The whole daemon end to end is `planwatch bench`.
//
//   swift build -c release --product planwatch-microbench
//   .build/release/planwatch-microbench                       # every benchmark
//   .build/release/planwatch-microbench --filter 'handler'    # some of them
//
// The events are a simulated school year of the Zibo 2020 plan (the simulator's default),
// judged against the shipped plans, so each handler sees the mix it sees in the demo.
// Figures and what they mean: BENCHMARKS.md. CI runs every benchmark a few iterations
// (`--iterations 3 --allow-debug-build`) to keep them working, and asserts no figure.
import Benchmark
import DigitalInfrastructure
import Finance
import Foundation
import HandlerCatalog
import HandlerKit
import PlanWatchConfig
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchSimulator
import PlanWatchWire

// Every handler the demo runs: the built-in ones and the two shipped as plugins, here linked in.
let handlers: [any Handler] = HandlerCatalog.builtIn() + [FinanceHandler(), DigitalInfrastructureHandler()]

/// The simulated stream, decoded once, by event type.
let stream = Simulator().events()
let decoder = EventDecoder(extraTypes: handlers.reduce(into: [:]) { all, h in all.merge(h.payloadValidators) { a, _ in a } })
var byType: [String: [(topic: [UInt8], body: [UInt8], event: Event)]] = [:]
for simulated in stream {
    let topic = Array(simulated.topic.utf8)
    guard case .success(let event) = decoder.decode(topic: topic, body: simulated.body) else { continue }
    byType[event.type, default: []].append((topic, simulated.body, event))
}
let events = byType.values.flatMap { $0 }.sorted { ($0.event.occurredAt, $0.event.id) < ($1.event.occurredAt, $1.event.id) }

let settings: HandlerSettings
do {
    let plans = ["Plans/zibo-2020.yaml", "Plans/city-2023.yaml", "Plans/district-003-2024.yaml"]
        .filter { FileManager.default.fileExists(atPath: $0) }
    settings = try HandlerSettings.load(file: nil, plans: plans, clock: "event", calendars: [], manifests: handlers.map(\.manifest))
} catch {
    FileHandle.standardError.write(Data("planwatch-microbench: \(error)\n".utf8))
    exit(1)
}

/// Cycles through `items`, one per call.
struct Cycle<T> {
    let items: [T]
    var next = 0
    mutating func take() -> T {
        defer { next = (next + 1) % items.count }
        return items[next]
    }
}

let decoding = BenchmarkSuite(name: "decode") { suite in
    for type in byType.keys.sorted() {
        var messages = Cycle(items: byType[type]!)
        suite.benchmark(type) {
            let m = messages.take()
            guard case .success = decoder.decode(topic: m.topic, body: m.body) else { fatalError("\(type) no longer decodes") }
        }
    }
}

/// One handler with its state, fed its own events in time order; the state starts again
/// when the stream wraps round, so a run measures the year's mix rather than a state that
/// grows with every lap.
final class Feed<H: Handler> {
    let handler: H
    let events: [Event]
    var state: H.State
    var next = 0
    private(set) var outputs: [HandlerOutput] = []

    init(_ handler: H, events: [Event]) {
        self.handler = handler
        self.events = events
        state = handler.makeInitialState()
    }

    func step(keeping: Bool = false) throws {
        if next == events.count {
            next = 0
            state = handler.makeInitialState()
        }
        let event = events[next]
        next += 1
        let context = HandlerContext(
            now: event.occurredAt, calendar: settings.calendar, timings: settings.timings, plans: settings.plans)
        let out = try handler.handle(event, state: &state, context: context)
        if keeping { outputs += out }
    }
}

func feed<H: Handler>(_ handler: H) -> (name: String, count: Int, step: (Bool) throws -> Void, outputs: () -> [HandlerOutput]) {
    let types = Set(handler.eventTypes)
    let mine = events.filter { types.contains($0.event.type) || types.contains("*") }.map(\.event)
    let feed = Feed(handler, events: mine)
    return (handler.name, mine.count, { try feed.step(keeping: $0) }, { feed.outputs })
}

let feeds = handlers.map { feed($0) }.filter { $0.count > 0 }

let handling = BenchmarkSuite(name: "handler") { suite in
    for f in feeds {
        suite.benchmark("\(f.name) (\(f.count) events)") { try f.step(false) }
    }
}

// What the handlers output over the year, for the encoding benchmarks.
var alerts: [Alert] = []
var updates: [IndicatorUpdate] = []
for f in feeds {
    for _ in 0..<f.count { try f.step(true) }
    for output in f.outputs() {
        switch output {
        case .alert(let a): alerts.append(a)
        case .indicator(let u): updates.append(u)
        }
    }
}

let encoding = BenchmarkSuite(name: "encode") { suite in
    if !alerts.isEmpty {
        var items = Cycle(items: alerts)
        suite.benchmark("alert") { _ = items.take().body(seq: 1) }
        // A checkpoint writes each changed subject's value (an open alert, in the handlers'
        // alert books, the desk and the store) as a row: with JSONWriter.encode, and with
        // Foundation's JSONEncoder, which it replaced, for comparison.
        var rows = Cycle(items: alerts)
        suite.benchmark("alert as a checkpoint row") { _ = try JSONWriter.encode(rows.take()) }
        let foundation = JSONEncoder()
        suite.benchmark("alert as a checkpoint row, JSONEncoder") { _ = try foundation.encode(rows.take()) }
        // A restart reads each row back: parsed, then decoded from the parsed value (JSONDecoder
        // where that does not read it), and JSONDecoder alone, which it replaced.
        var stored = Cycle(items: alerts.map { Data(try! JSONWriter.encode($0)) })
        let reader = JSONDecoder()
        suite.benchmark("alert row read back at a restart") { _ = try JSONParser.parse(Array(stored.take())).decode(Alert.self) }
        suite.benchmark("alert row read back at a restart, JSONDecoder") { _ = try reader.decode(Alert.self, from: stored.take()) }
        suite.benchmark("alert row parsed only (JSONParser), for comparison") { _ = try JSONParser.parse(Array(stored.take())) }
    }
    if !updates.isEmpty {
        var items = Cycle(items: updates)
        suite.benchmark("indicator update") { _ = items.take().body(seq: 1) }
    }
}

let state = BenchmarkSuite(name: "state") { suite in
    // An incident's every update fires its alert again, at the same level with new wording
    // (the fire-and-forget workload of `planwatch bench`): 1,000 alerts open, each fired in turn.
    var book = AlertBook()
    let region = RegionCode("370303")!
    let firings = (0..<2_000).map { i in
        AlertBook.Firing(
            rule: "safety.incident", subjectKey: "INC-\(i % 1_000)", region: region,
            subject: ["incidentId": "INC-\(i % 1_000)", "schoolId": "370303-0042"], level: .yellow,
            summary: "370303-0042 发生交通事件(已报告): 涉及\(i / 1_000)人, 受伤0人, 死亡0人, 黄色预警", planRef: "Zibo 2020 §8",
            at: Timestamp(epochMilliseconds: 1_773_200_000_000), causes: ["bench-\(i)"])
    }
    for f in firings.prefix(1_000) { _ = book.fire(f) }
    var again = Cycle(items: firings)
    suite.benchmark("alert book: an open alert fired again, new wording") { _ = book.fire(again.take()) }
}

/// A class as Enrolment keeps it (the handler's own type is internal to it).
struct ClassRow: Codable, Sendable, Equatable {
    var schoolId: String
    var classId: String
    var region: String
    var level: String
    var size: Int64
}

struct Classes: Encodable {
    var classes = SubjectMap<ClassRow>()
}

let checkpointing = BenchmarkSuite(name: "checkpoint") { suite in
    // The first checkpoint after a census writes every class: the checkpoint writer lists the
    // map's keys, puts the rows in the order the journal stores them and encodes each value, a
    // chunk at a time (the flat cost of `planwatch bench` has a million classes; 100,000 here,
    // or PLANWATCH_MICROBENCH_SCHOOLS times 50).
    let schools = ProcessInfo.processInfo.environment["PLANWATCH_MICROBENCH_SCHOOLS"].flatMap { Int($0) } ?? 2_000
    var state = Classes()
    for school in 0..<schools {
        for c in 0..<50 {
            state.classes["370303-S\(school)|\(c)"] = ClassRow(
                schoolId: "370303-S\(school)", classId: "\(c)", region: "370303", level: "primary", size: Int64(30 + (school + c) % 24))
        }
    }
    suite.benchmark("\(schools * 50) classes written whole: listed, ordered, encoded") {
        let sink = SubjectSink(full: true)
        let encoder = JSONEncoder()
        encoder.userInfo[.planwatchSubjects] = sink
        _ = try encoder.encode(state)
        var rows = 0
        try sink.forEachChunk(of: 1_000) { rows += $0.count }
        precondition(rows == schools * 50)
    }
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("planwatch-microbench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

let journaling = BenchmarkSuite(name: "journal") { suite in
    // The pipeline appends what it took off the queue in one transaction; 64 is a batch at load.
    for (name, full) in [("append 64 events, SQLite synchronous FULL", true), ("append 64 events, SQLite synchronous NORMAL", false)] {
        let path = directory.appendingPathComponent("\(full ? "full" : "normal").sqlite").path
        let journal = try! JournalAppendBench(path: path, synchronousFull: full)
        let all = stride(from: 0, to: events.count - 63, by: 64).map { Array(events[$0..<$0 + 64]) }
        guard !all.isEmpty else { continue }
        var batches = Cycle(items: all)
        suite.benchmark(name) {
            try journal.append(batches.take().map { ($0.topic, $0.body, $0.event) })
        }
    }
}

Benchmark.main([decoding, handling, encoding, state, checkpointing, journaling])
