import ArgumentParser
import Foundation
import PlanWatchModel
import PlanWatchSimulator
import PlanWatchWire
import Synchronization
import ZeroMQ

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput and latency side by side: raw libzmq, a pyzmq script, and planwatchd.",
        discussion: """
            With the same ~400-byte events, in one run on this machine: (a) raw libzmq PUB→SUB, the
            receiver only counting; (b) a Python pyzmq subscriber that json-decodes each event and
            updates a dict; (c) planwatchd end to end with all built-in handlers and the journal on
            (synchronous NORMAL), over the fire-and-forget and the acknowledged paths; then the
            latency from publish to alert at half of (c)'s rate, and planwatchd's peak RSS; then
            the flat cost (events/s with few and with many classes tracked), and the time the
            daemon with many classes takes to be ready again after a SIGKILL, then a SIGTERM.
            Build with -c release for figures worth writing down.
            """)

    @Option(help: "Fire-and-forget events per throughput measure (a quarter of them acknowledged), shared by its --pairs runs.")
    var events = 200_000

    @Option(help: "Fire-and-forget and acknowledged runs, alternated, this many times each, sharing --events: their figures are the medians (one pair swung 0.56–0.87 between runs of one binary on a VM).")
    var pairs = 3

    @Option(help: "Events for the latency run (each raises an alert).")
    var latencyEvents = 20_000

    @Option(help: "Events/s offered in the latency run (default: half of the every-event-a-new-alert maximum just measured), to compare two builds at the same load.")
    var latencyRate: Double?

    @Option(help: "planwatchd to start (default: the one next to this planwatch).")
    var daemon: String?

    @Option(help: "Python with pyzmq, for (b); 'none' skips it.")
    var python = "python3"

    @Option(help: "Flat cost: events/s of enrolment changes with this many classes tracked, then with --flat-large (0 skips it).")
    var flatSmall = 10_000

    @Option(help: "Flat cost: the large number of classes tracked (with --flat-cases open drop-out cases).")
    var flatLarge = 1_000_000

    @Option(help: "Flat cost: open drop-out cases tracked in the large run.")
    var flatCases = 100_000

    @Option(help: "Flat cost: enrolment changes measured in each run.")
    var flatEvents = 100_000

    @Option(help: "Write the table (Markdown) to this file as well.")
    var markdown: String?

    @Flag(help: "Each measure as a JSON object {\"measure\", \"value\"} per line.")
    var json = false

    func validate() throws {
        // The rate paces the sender and is printed as a whole number: infinity or NaN would trap there.
        if let latencyRate, !(1...10_000_000).contains(latencyRate) {
            throw ValidationError("--latency-rate must be between 1 and 10,000,000 events/s, not \(latencyRate)")
        }
        guard (1...100).contains(pairs) else { throw ValidationError("--pairs must be between 1 and 100, not \(pairs)") }
    }

    func run() throws {
        let body = Self.body(0, incident: "INC-0")
        var rows: [(String, String)] = []
        func row(_ name: String, _ value: String) {
            rows.append((name, value))
            emit(json ? JSONWriter.string(.object(["measure": .string(name), "value": .string(value)])) : "\(name): \(value)")
        }
        row("event size", "\(body.count) bytes")
        let raw = try Self.rawZeroMQ(events: events)
        row("(a) raw libzmq PUB→SUB", Self.rate(raw))
        var python: Double?
        if self.python != "none" {
            python = try Self.pythonSubscriber(events: events, python: self.python)
            row("(b) pyzmq subscriber, json + dict", Self.rate(python!))
        }
        let daemonPath = daemon ?? CommandLine.arguments[0].replacingOccurrences(of: "planwatch", with: "planwatchd", options: .backwards)
        let d = try BenchDaemon(path: daemonPath)
        defer { d.stop() }
        // Alternated, so that what the machine does meanwhile falls on both alike. The pairs
        // share the events: the journal the later runs start with is the same size whatever
        // their number (the latency run measured 44 ms at p99 after 250,000 entries and 305 ms
        // after 750,000, in one hour).
        var fires: [Double] = []
        var ackeds: [Double] = []
        for _ in 0..<pairs {
            fires.append(try d.fireAndForget(events: max(events / pairs, 1)))
            ackeds.append(try d.acknowledged(events: max(events / 4 / pairs, 1)))
        }
        let fire = Self.median(fires)
        let acked = Self.median(ackeds)
        let of = pairs > 1 ? " (median of \(pairs))" : ""
        row("(c) planwatchd, fire-and-forget\(of)", Self.rate(fire))
        row("(c) planwatchd, acknowledged (window 1000)\(of)", Self.rate(acked))
        let ratios = zip(ackeds, fires).map { $0 / $1 }
        row(
            "(c) acknowledged / fire-and-forget, \(pairs) alternated pair\(pairs == 1 ? "" : "s")",
            String(format: "%.2f", Self.median(ratios))
                + (pairs > 1 ? " (median; pairs " + ratios.map { String(format: "%.2f", $0) }.joined(separator: " / ") + ")" : ""))
        row("(c)/(a) fire-and-forget", String(format: "%.2f", fire / raw))
        if let python { row("(c)/(b) fire-and-forget", String(format: "%.2f", fire / python)) }
        // Latency at half the maximum of the same workload: every event a new incident at one
        // of 400 schools, so every event raises an alert (and moves six indicators).
        let alerting = try d.fireAndForget(events: max(latencyEvents, 1), newIncidents: true)
        row("(c) planwatchd, fire-and-forget, every event a new alert", Self.rate(alerting))
        let offered = latencyRate ?? alerting / 2
        let latencies = try d.latency(events: latencyEvents, rate: offered)
        row("latency publish→alert at \(Int(offered)) events/s (\(latencyRate == nil ? "half of that" : "as asked"))", Self.percentiles(latencies))
        row("planwatchd peak RSS", "\(d.peakRSSKilobytes() / 1024) MiB")
        d.stop()
        if flatSmall > 0 {
            let small = try Self.flatCost(daemon: daemonPath, classes: flatSmall, cases: 0, events: flatEvents)
            row("flat cost: enrolment changes with \(flatSmall) classes", Self.rate(small.rate))
            let large = try Self.flatCost(daemon: daemonPath, classes: flatLarge, cases: flatCases, events: flatEvents, recover: true)
            row("flat cost: enrolment changes with \(flatLarge) classes, \(flatCases) open cases", Self.rate(large.rate))
            row("flat cost ratio (large / small)", String(format: "%.2f", large.rate / small.rate))
            row("planwatchd peak RSS with \(flatLarge) classes", "\(large.rssKilobytes / 1024) MiB")
            if let seconds = large.recoverySeconds {
                row("recovery after SIGKILL with \(flatLarge) classes (start to ready)", String(format: "%.1f s", seconds.kill))
                row("restart after SIGTERM with \(flatLarge) classes (from its checkpoint)", String(format: "%.1f s", seconds.term))
            }
        }
        if let markdown {
            let table = "| measure | value |\n|---|---|\n" + rows.map { "| \($0.0) | \($0.1) |" }.joined(separator: "\n") + "\n"
            try table.write(toFile: markdown, atomically: true, encoding: .utf8)
        }
    }

    static func rate(_ r: Double) -> String { "\(Int(r)) events/s" }

    /// The nearest-rank quantile `q` (0–1) of `sorted`, ascending and not empty.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }

    /// The middle value (the upper of the two middle ones for an even count) of `values`, not empty.
    static func median(_ values: [Double]) -> Double { quantile(values.sorted(), 0.5) }

    /// Events/s of enrolment changes to random classes, with `classes` classes (50 per
    /// school, Zhangdian's code) and `cases` open drop-out cases tracked: per-event cost must
    /// not grow with what is tracked. A fresh daemon each time.
    static func flatCost(daemon path: String, classes: Int, cases: Int, events: Int, recover: Bool = false) throws
        -> (rate: Double, rssKilobytes: Int, recoverySeconds: (kill: Double, term: Double)?)
    {
        let d = try BenchDaemon(path: path)
        defer { d.stop() }
        let schools = max(1, classes / 50)
        func envelope(_ id: String, _ type: String, _ payload: String) -> [UInt8] {
            Array(
                """
                {"id":"\(id)","type":"\(type)","source":"bench","occurredAt":"2026-03-02T08:10:00+08:00","region":"370303",\
                "schemaVersion":1,"payload":\(payload)}
                """.utf8)
        }
        var census: [[UInt8]] = []
        for s in 0..<schools {
            let classList = (0..<50).map { c in "{\"classId\":\"\(c)\",\"size\":\(30 + (s + c) % 24)}" }.joined(separator: ",")
            census.append(
                envelope(
                    "census-\(s)", "enrolment.census",
                    "{\"schoolId\":\"370303-S\(s)\",\"level\":\"primary\",\"ownership\":\"public\",\"term\":\"2026-spring\",\"classes\":[\(classList)]}"))
        }
        _ = try d.pour(census, type: "enrolment.census")
        var generator = SplitMix64(seed: 7)
        if cases > 0 {
            let dropouts = (0..<cases).map { c in
                envelope(
                    "case-\(c)", "enrolment.change",
                    "{\"schoolId\":\"370303-S\(c % schools)\",\"level\":\"primary\",\"ownership\":\"public\",\"change\":\"droppedOut\",\"count\":1,\"studentRef\":\"S-\(c)\"}")
            }
            _ = try d.pour(dropouts, type: "enrolment.change")
        }
        let changes = (0..<events).map { e -> [UInt8] in
            let school = Int(generator.next() % UInt64(schools))
            let kind = e % 2 == 0 ? "admitted" : "withdrawn"
            return envelope(
                "change-\(e)", "enrolment.change",
                "{\"schoolId\":\"370303-S\(school)\",\"level\":\"primary\",\"ownership\":\"public\",\"classId\":\"\(generator.next() % 50)\",\"change\":\"\(kind)\",\"count\":1}")
        }
        let rate = try d.pour(changes, type: "enrolment.change")
        let rss = d.peakRSSKilobytes()
        return (rate, rss, recover ? (try d.restart(after: SIGKILL), try d.restart(after: SIGTERM)) : nil)
    }

    static func percentiles(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "no alerts received" }
        let sorted = values.sorted()
        func p(_ q: Double) -> String { String(format: "%.2f ms", quantile(sorted, q) * 1000) }
        return "p50 \(p(0.5)), p99 \(p(0.99)), p99.9 \(p(0.999)) (\(sorted.count) alerts)"
    }

    /// A `safety.incident` of about 400 bytes.
    static func body(_ i: Int, incident: String, school: Int = 42, at: String = "2026-03-11T12:30:00+08:00") -> [UInt8] {
        let text = """
            {"id":"bench-\(i)","type":"safety.incident","source":"bench","occurredAt":"\(at)","region":"370303",\
            "schemaVersion":1,"payload":{"incidentId":"\(incident)","schoolId":"370303-\(String(format: "%04d", school))","category":"traffic",\
            "status":"reported","affected":\(i % 9),"injured":0,"deaths":0,"reportedAt":"\(at)",\
            "description":"放学途中发生交通事故, 学生轻微擦伤, 已送医检查"}}
            """
        return Array(text.utf8)
    }

    static let topic = Array("safety.incident.370303".utf8)

    /// (a): PUB→SUB over tcp loopback, the receiver only counting.
    static func rawZeroMQ(events: Int) throws -> Double {
        let context = ZMQContext()
        let pub = try ZMQSocket(context: context, type: .xpub)
        try pub.set(.sendHighWaterMark(0))
        try pub.bind("tcp://127.0.0.1:*")
        let endpoint = pub.lastEndpoint
        let done = Mutex<Date?>(nil)
        let receiver = Thread {
            guard let sub = try? ZMQSocket(context: context, type: .sub) else { return }
            try? sub.set(.receiveHighWaterMark(0))
            try? sub.set(.subscribe(""))
            try? sub.connect(endpoint)
            var count = 0
            while count < events, (try? sub.receive()) != nil { count += 1 }
            done.withLock { $0 = Date() }
            sub.close()
        }
        receiver.start()
        guard try pub.receive() != nil else { throw CLIError("no subscription") }
        let body = Self.body(0, incident: "INC-0")
        let start = Date()
        for _ in 0..<events { try pub.send([topic, body]) }
        while done.withLock({ $0 }) == nil { Thread.sleep(forTimeInterval: 0.001) }
        return Double(events) / done.withLock({ $0! }).timeIntervalSince(start)
    }

    /// (b): what an integrator would script.
    static func pythonSubscriber(events: Int, python: String) throws -> Double {
        let context = ZMQContext()
        let pub = try ZMQSocket(context: context, type: .xpub)
        try pub.set(.sendHighWaterMark(0))
        try pub.bind("tcp://127.0.0.1:*")
        let script = """
            import json, sys, time, zmq
            n = int(sys.argv[2]); s = zmq.Context().socket(zmq.SUB); s.setsockopt(zmq.RCVHWM, 0)
            s.setsockopt(zmq.SUBSCRIBE, b""); s.connect(sys.argv[1]); state = {}
            topic, body = s.recv_multipart(); t0 = time.perf_counter(); e = json.loads(body); state[e["payload"]["incidentId"]] = e
            for _ in range(n - 1):
                topic, body = s.recv_multipart(); e = json.loads(body); state[e["payload"]["incidentId"]] = e
            print(n / (time.perf_counter() - t0))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script, pub.lastEndpoint, String(events)]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        guard try pub.receive() != nil else { throw CLIError("python subscriber did not subscribe") }
        for i in 0..<events { try pub.send([topic, Self.body(i, incident: "INC-\(i % 1000)")]) }
        process.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let rate = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CLIError("python subscriber failed (is pyzmq installed?): \(text)")
        }
        return rate
    }
}

/// planwatchd started for a benchmark, on free ports, with a throwaway journal.
final class BenchDaemon {
    private(set) var process = Process()
    let path: String
    let directory: String
    let ports: [Int]
    var ingest: String { "tcp://127.0.0.1:\(ports[0])" }
    var ack: String { "tcp://127.0.0.1:\(ports[1])" }
    var publish: String { "tcp://127.0.0.1:\(ports[2])" }
    var http: String { "http://127.0.0.1:\(ports[4])" }
    let context = ZMQContext()
    private var sent = 0

    /// Where each daemon's log goes, at info (`checkpoint saved` gives each checkpoint's bytes,
    /// subjects written and milliseconds): `PLANWATCH_BENCH_LOG`, a file rewritten per daemon.
    static let logFile = ProcessInfo.processInfo.environment["PLANWATCH_BENCH_LOG"]

    init(path: String) throws {
        self.path = path
        directory = NSTemporaryDirectory() + "planwatch-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ports = (0..<5).map { _ in BenchDaemon.freePort() }
        try (ProcessInfo.processInfo.environment["PLANWATCH_BENCH_CONFIG"] ?? "storage:\n  synchronous: normal\n").write(toFile: directory + "/bench.yaml", atomically: true, encoding: .utf8)
        try launch()
        try waitUntilReady(seconds: 60, else: "planwatchd did not start (\(path))")
    }

    /// Starts planwatchd on this directory's journal and ports.
    private func launch() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [
            "--config", directory + "/bench.yaml", "--journal", directory + "/journal.sqlite",
            "--log-level", Self.logFile == nil ? "warning" : "info",
            "--ingest-bind", "tcp://127.0.0.1:\(ports[0])", "--ack-bind", "tcp://127.0.0.1:\(ports[1])",
            "--publish-bind", "tcp://127.0.0.1:\(ports[2])", "--snapshot-bind", "tcp://127.0.0.1:\(ports[3])",
            "--http-bind", "127.0.0.1:\(ports[4])",
        ]
        if let logFile = Self.logFile, FileManager.default.createFile(atPath: logFile, contents: nil),
            let log = FileHandle(forWritingAtPath: logFile)
        {
            process.standardError = log
        } else {
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        }
        try process.run()
    }

    /// Stops planwatchd with `signal` — SIGKILL: it recovers from its last checkpoint saved,
    /// replaying the journal after it; SIGTERM: it saves a checkpoint as it stops, and reads
    /// just that — starts it again on the same journal and returns the seconds until it is
    /// ready (`/readyz`: journal recovered, sockets bound).
    func restart(after signal: Int32) throws -> Double {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let started = Date()
        try launch()
        try waitUntilReady(seconds: 600, else: "planwatchd did not recover its journal (\(path))")
        return Date().timeIntervalSince(started)
    }

    /// Waits until `/readyz` says ready (journal recovered, sockets bound), or throws `failure`.
    private func waitUntilReady(seconds: Double, else failure: String) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while (try? String(contentsOf: URL(string: http + "/readyz")!, encoding: .utf8)) != "ready\n" {
            guard Date() < deadline, process.isRunning else { throw CLIError(failure) }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                _ = bind(fd, p, len)
                _ = getsockname(fd, p, &len)
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Events the daemon has accepted so far (its Prometheus counter), of `type`.
    func received(type: String = "safety.incident") throws -> Int {
        let text = try String(contentsOf: URL(string: http + "/metrics")!, encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasPrefix("planwatch_events_received_total{type=\"\(type)\"}") {
            return Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
        }
        return 0
    }

    /// Sends `bodies` of `type` fire-and-forget and waits until the daemon accepted them all;
    /// returns events per second.
    func pour(_ bodies: [[UInt8]], type: String, region: String = "370303") throws -> Double {
        let sender = try FireAndForgetSender(context: context, endpoint: ingest)
        let topic = Array("\(type).\(region)".utf8)
        let before = try received(type: type)
        let start = Date()
        for body in bodies { try sender.send([topic, body]) }
        while try received(type: type) < before + bodies.count {
            guard Date().timeIntervalSince(start) < 900 else { throw CLIError("planwatchd accepted \(try received(type: type) - before) of \(bodies.count) \(type)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return Double(bodies.count) / Date().timeIntervalSince(start)
    }

    func fireAndForget(events: Int, newIncidents: Bool = false) throws -> Double {
        let bodies = (0..<events).map { i in
            newIncidents
                ? Bench.body(sent + i, incident: "NEW-\(sent + i)", school: i % 400) : Bench.body(sent + i, incident: "INC-\(i % 1000)")
        }
        sent += events
        return try pour(bodies, type: "safety.incident")
    }

    func acknowledged(events: Int, window: Int = 1000) throws -> Double {
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.connect(ack)
        var inFlight: [String: [[UInt8]]] = [:]
        var done = 0
        var next = 0
        let start = Date()
        while done < events {
            while inFlight.count < window && next < events {
                let frames = [Bench.topic, Bench.body(sent + next, incident: "INC-\(next % 1000)")]
                inFlight["bench-\(sent + next)"] = frames
                try dealer.send(frames)
                next += 1
            }
            guard let reply = try dealer.receive(), reply.count == 3 else { continue }
            let id = String(decoding: reply[1], as: UTF8.self)
            if reply[0] == Array("busy".utf8), let frames = inFlight[id] {
                try dealer.send(frames)  // not recorded: send it again
                continue
            }
            if inFlight.removeValue(forKey: id) != nil { done += 1 }
        }
        sent += events
        dealer.close()
        return Double(events) / Date().timeIntervalSince(start)
    }

    /// Publish → alert received, at a fixed offered `rate`; every event is a new incident.
    func latency(events: Int, rate: Double) throws -> [Double] {
        let sub = try ZMQSocket(context: context, type: .sub)
        try sub.set(.receiveHighWaterMark(0))
        try sub.set(.subscribe("alert.safety"))
        try sub.connect(publish)
        let sender = try FireAndForgetSender(context: context, endpoint: ingest)
        // Wait until the subscription works: a probe incident and its alert.
        var probe = 0
        var poller = Poller()
        poller.add(sub)
        while true {
            probe += 1
            try sender.send([Bench.topic, Bench.body(sent + 10_000_000 + probe, incident: "PROBE-\(probe)")])
            if try poller.poll(timeoutMilliseconds: 200)[0] {
                while (try sub.receive(wait: false)) != nil {}
                break
            }
        }
        var sentAt: [String: Date] = [:]
        var latencies: [Double] = []
        let interval = 1 / max(rate, 1)
        let start = Date()
        let end = start.addingTimeInterval(Double(events) * interval + 10)
        var i = 0
        // Sends what is due, then sleeps in the poll until the next send or an alert: the
        // client must not spin, or on two cores it takes the daemon's CPU and measures itself.
        while (i < events || latencies.count < events) && Date() < end {
            while i < events && Date() >= start.addingTimeInterval(Double(i) * interval) {
                let id = "lat-\(sent + i)"
                // A new incident at one of 400 schools: the alerts and windows of a real city.
                var body = Bench.body(sent + i, incident: "LAT-\(sent + i)", school: i % 400)
                body = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\"bench-\(sent + i)\"", with: "\"\(id)\"").utf8)
                sentAt[id] = Date()
                try sender.send([Bench.topic, body])
                i += 1
            }
            let nextDue = i < events ? start.addingTimeInterval(Double(i) * interval).timeIntervalSinceNow : 0.05
            _ = try poller.poll(timeoutMilliseconds: max(0, Int((nextDue * 1000).rounded(.up))))
            while let frames = try sub.receive(wait: false) {
                guard frames.count == 2, case .object(let o)? = try? JSONParser.parse(frames[1]),
                    case .array(let causes)? = o["causes"], case .string(let cause)? = causes.first, let t = sentAt[cause]
                else { continue }
                latencies.append(Date().timeIntervalSince(t))
            }
        }
        sent += events
        sub.close()
        return latencies
    }

    func peakRSSKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

