import Foundation
import HandlerCatalog
import PlanWatchModel
import PlanWatchTestSupport
import PlanWatchWire
import Testing
import ZeroMQ

/// The `planwatch` CLI against a real daemon.
@Suite struct CLITests {
    func lines(_ bodies: [[UInt8]]) -> String {
        bodies.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n") + "\n"
    }

    @Test func checkPrintsEachRejectionWithItsLineNumber() throws {
        let good = Fixtures.incident(id: "c-1").body
        let input = "# comment\n" + lines([good, Array("{\"type\":\"safety.incident\"".utf8), good])
        let result = try run(Products.path("planwatch"), ["check"], stdin: input)
        #expect(result.status == 1)
        #expect(result.stdout.contains("line 3: malformedJson:"), "\(result.stdout)")
        #expect(result.stdout.contains("2 valid, 1 rejected"))
    }

    /// `check-config` refuses exactly what `planwatchd` refuses at start, in the same words:
    /// a config that passes the check must not be one the daemon will not run.
    @Test func checkConfigRefusesWhatTheDaemonRefuses() throws {
        let dir = TemporaryDirectory()
        let keys = try run(Products.path("planwatch"), ["keygen", "d", "--dir", dir.path])
        #expect(keys.status == 0, "\(keys.stderr)")
        try "basic_auth_users:\n  wangmin: not-a-hash\n".write(toFile: dir.path + "/web.yml", atomically: true, encoding: .utf8)
        let cases: [(config: String, says: String)] = [
            ("ingest: {bind: [\"tcp://0.0.0.0:5550\"]}", "refusing to bind tcp://0.0.0.0:5550 without CURVE"),
            ("http: {bind: \"0.0.0.0:8080\"}", "refusing to serve HTTP on 0.0.0.0 without TLS and operators"),
            ("http: {webConfigFile: \"\(dir.path)/web.yml\"}", "basic_auth_users.wangmin is not a bcrypt hash"),
            (
                "curve: {secretKeyFile: \"\(dir.path)/d.secret\"}\npublish: {connect: [\"tcp://127.0.0.1:5570\"]}",
                "publish.connect cannot be combined with curve"
            ),
            ("alertmanager: {url: \"http://127.0.0.1:9093\", batchSize: 0}", "alertmanager.batchSize must be 1–10000"),
            ("logLevel: loud", "log level 'loud' is not one of"),
            ("plugins: {directory: \"\(dir.path)\", required: [Finance]}", "required plugin 'Finance' was not found"),
            ("pipeline: {maxBatch: 0}", "pipeline.maxBatch must be 1 to 100000, not 0"),
            (
                "storage: {path: \"\(dir.path)/r.sqlite\", retentionHours: .inf}",
                "storage.retentionHours (--retention-hours) must be 0 (keep for ever) up to 1000000 hours, not inf"
            ),
        ]
        for (i, c) in cases.enumerated() {
            let file = dir.path + "/c\(i).yaml"
            let storage = c.config.hasPrefix("storage:") ? "" : "storage: {path: \"\(dir.path)/j\(i).sqlite\"}\n"
            try "\(storage)\(c.config)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let checked = try run(Products.path("planwatch"), ["check-config", file])
            #expect(checked.status == 1 && checked.stdout.contains(c.says), "check-config \(c.config): \(checked.stdout)")
            let started = try run(Products.path("planwatchd"), ["--config", file], timeout: 60)
            #expect(started.status != 0 && started.stderr.contains(c.says), "planwatchd \(c.config): \(started.stderr)")
        }
        // And what it accepts, it summarises: what is exposed and to whom.
        let ok = dir.path + "/ok.yaml"
        try "storage: {path: \"\(dir.path)/ok.sqlite\"}\nhttp: {bind: \"127.0.0.1:0\"}\n".write(toFile: ok, atomically: true, encoding: .utf8)
        let checked = try run(Products.path("planwatch"), ["check-config", ok])
        #expect(checked.status == 0 && checked.stdout.contains("HTTP on 127.0.0.1:0, 0 operators"), "\(checked.stdout)")
        // Flags are written over the file's keys and checked by the same rules; each error
        // names the key and the flag.
        let flagged: [(flags: [String], says: String)] = [
            (["--retention-hours", "1e300"], "storage.retentionHours (--retention-hours) must be 0 (keep for ever) up to 1000000 hours"),
            (["--ingest-region", "37x"], "ingest.regions (--ingest-region): '37x' is not a region prefix"),
            (["--tick-interval-ms", "0"], "pipeline.tickIntervalMs (--tick-interval-ms) must be 1 to 3600000, not 0"),
            (["--http-bind", "0.0.0.0:8080"], "refusing to serve HTTP on 0.0.0.0 without TLS and operators"),
        ]
        for f in flagged {
            let started = try run(Products.path("planwatchd"), ["--config", ok] + f.flags, timeout: 60)
            #expect(started.status != 0 && started.stderr.contains(f.says), "planwatchd \(f.flags): \(started.stderr)")
        }
    }

    @Test func publishWithAckReportsCountsAndReasons() throws {
        let dir = TemporaryDirectory()
        let daemon = try DaemonProcess(journal: dir.path + "/j.sqlite", logPath: dir.path + "/d.log")
        let file = dir.path + "/events.jsonl"
        let bad = String(decoding: Fixtures.incident(id: "p-3").body, as: UTF8.self).replacingOccurrences(of: "\"affected\":35", with: "\"affected\":-1")
        try (lines([Fixtures.incident(id: "p-1").body, Fixtures.incident(id: "p-1").body]) + bad + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try run(Products.path("planwatch"), ["publish", "--ack", file, "--ack-endpoint", daemon.ack])
        #expect(result.status == 1, "a rejection is a failure of the command: \(result.stderr)")
        #expect(result.stdout.contains("line 3: rejected: schemaViolation: payload.affected: -1 is outside"), "\(result.stdout)")
        #expect(result.stdout.contains("ok 1, duplicate 1, rejected 1"))
        // --json: the rejection and the counts, for scripts; and standard input, as a pipe gives it.
        let again = try run(
            Products.path("planwatch"), ["publish", "--ack", "--json", "-", "--ack-endpoint", daemon.ack],
            stdin: try String(contentsOfFile: file, encoding: .utf8))
        #expect(again.status == 1)
        let objects = again.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(objects.count == 2, "\(again.stdout)")
        let first: JSONValue? = objects.first.flatMap { if case .object(let o) = $0 { o["line"] } else { nil } }
        #expect(first == .integer(3))
        #expect(objects.last == .object(JSONObject([
            ("sent", 3), ("endpoint", .string(daemon.ack)), ("ok", 0), ("duplicate", 2), ("rejected", 1),
        ])))
        #expect(try daemon.terminate() == 0)
    }

    @Test func tailShowsAlertsPublishedFireAndForget() throws {
        let dir = TemporaryDirectory()
        let daemon = try DaemonProcess(journal: dir.path + "/j.sqlite", logPath: dir.path + "/d.log")
        let tail = Process()
        tail.executableURL = URL(fileURLWithPath: Products.path("planwatch"))
        tail.arguments = ["tail", "alert.", "--json", "--count", "1", "--seconds", "120", "--output-endpoint", daemon.publish]
        let out = Pipe()
        tail.standardOutput = out
        try tail.run()
        // Publish until tail has its alert (tail may join after the first publish).
        let file = dir.path + "/events.jsonl"
        var n = 0
        let done = try Wait.until(seconds: 120) {
            n += 1
            try lines([Fixtures.incident(id: "tail-\(n)", incidentId: "INC-TAIL-\(n)").body]).write(toFile: file, atomically: true, encoding: .utf8)
            let r = try run(Products.path("planwatch"), ["publish", file, "--ingest-endpoint", daemon.ingest])
            #expect(r.status == 0, "\(r.stderr)")
            return Wait.until(seconds: 2) { !tail.isRunning }
        }
        #expect(done)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let line = try #require(text.split(separator: "\n").first.map(String.init))
        let object = try #require(Fixtures.object(Array(line.utf8)))
        #expect(object["topic"] == .string("alert.safety.370303"))
        #expect(try daemon.terminate() == 0)
    }

    @Test func tailWithSnapshotStartsFromTheDaemonsCurrentAlerts() throws {
        let dir = TemporaryDirectory()
        let daemon = try DaemonProcess(journal: dir.path + "/j.sqlite", logPath: dir.path + "/d.log")
        let file = dir.path + "/events.jsonl"
        try lines([Fixtures.incident(id: "snap-1", incidentId: "INC-SNAP").body, Fixtures.incident(id: "snap-2", incidentId: "INC-SNAP2").body])
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try run(Products.path("planwatch"), ["publish", "--ack", file, "--ack-endpoint", daemon.ack]).status == 0)
        let result = try run(
            Products.path("planwatch"),
            ["tail", "alert.", "--snapshot", "--json", "--count", "1", "--seconds", "60", "--output-endpoint", daemon.publish,
             "--snapshot-endpoint", daemon.snapshot])
        #expect(result.status == 0, "\(result.stderr)")
        let shown = result.stdout.split(separator: "\n")
        #expect(shown.count == 1, "--count 1 prints one message, of the snapshot's two: \(result.stdout)")
        let object = try #require(Fixtures.object(Array(shown.first.map(String.init)?.utf8 ?? "".utf8)))
        guard case .object(let body)? = object["body"], case .string(let fingerprint)? = body["fingerprint"] else {
            Issue.record("no body")
            return
        }
        #expect(fingerprint.hasPrefix("safety.incident/INC-SNAP"))
        #expect(try daemon.terminate() == 0)
    }

    /// The benchmark at a tiny size, so that it cannot rot (figures are in BENCHMARKS.md, not here).
    @Test func benchRunsEndToEndAtATinySize() throws {
        let dir = TemporaryDirectory()
        let table = dir.path + "/bench.md"
        let result = try run(
            Products.path("planwatch"),
            [
                "bench", "--events", "2000", "--latency-events", "200", "--flat-small", "500", "--flat-large", "5000", "--flat-cases", "500",
                "--flat-events", "1000", "--daemon", Products.path("planwatchd"), "--markdown", table,
            ],
            timeout: 600)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        for measure in ["(a) raw libzmq", "(b) pyzmq", "(c) planwatchd, fire-and-forget", "(c) planwatchd, acknowledged", "acknowledged / fire-and-forget, 3 alternated pairs", "p99.9",
            "peak RSS", "every event a new alert", "flat cost ratio", "with 5000 classes", "recovery after SIGKILL with 5000 classes",
            "restart after SIGTERM with 5000 classes"]
        {
            #expect(result.stdout.contains(measure), "\(measure) missing")
        }
        #expect(try String(contentsOfFile: table, encoding: .utf8).hasPrefix("| measure | value |"))
    }

    /// A latency rate the bench cannot pace or print is refused before anything starts, with
    /// the option named, instead of trapping when it turns it into a number of events/s; so is
    /// a number of pairs it cannot alternate.
    @Test func benchRefusesALatencyRateItCannotUse() throws {
        for rate in ["inf", "nan", "0", "-5", "1e300"] {
            let result = try run(Products.path("planwatch"), ["bench", "--latency-rate=\(rate)", "--python", "none"], timeout: 60)
            #expect(result.status == 64, "\(rate): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--latency-rate must be between 1 and 10,000,000"), "\(rate): \(result.stderr)")
        }
        let pairs = try run(Products.path("planwatch"), ["bench", "--pairs", "0", "--python", "none"], timeout: 60)
        #expect(pairs.status == 64 && pairs.stderr.contains("--pairs must be between 1 and 100, not 0"), "\(pairs.status) \(pairs.stderr)")
    }

    /// The microbenchmarks run, each a few iterations (as CI runs them): every stage the
    /// daemon has is measured — each event type decoded, each built-in handler on its own
    /// events, both outputs encoded, the journal's append, a checkpoint's rows — and none is
    /// silently skipped.
    @Test func microbenchmarksMeasureEveryStageAtATinySize() throws {
        let result = try run(
            Products.path("planwatch-microbench"),
            ["--allow-debug-build", "--iterations", "3", "--warmup-iterations", "0", "--format", "json"],
            timeout: 600)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let start = try #require(result.stdout.firstIndex(of: "{"), "no JSON in \(result.stdout)")
        guard case .object(let root) = try JSONParser.parse(Array(result.stdout[start...].utf8)),
            case .array(let rows)? = root["benchmarks"]
        else { throw TestFailure("not the benchmark report: \(result.stdout)") }
        var timed: [String: Double] = [:]
        for case .object(let row) in rows {
            guard case .string(let name)? = row["name"] else { continue }
            switch row["time"] {
            case .double(let t)?: timed[name] = t
            case .integer(let t)?: timed[name] = Double(t)
            default: break
            }
        }
        var expected = EventType.contract.map { "decode.\($0)" }
        expected += HandlerCatalog.builtIn().flatMap(\.payloadValidators.keys).map { "decode.\($0)" }
        expected += HandlerCatalog.builtIn().map(\.name).filter { $0 != "ProvinceRollup" }.map { "handler.\($0)" }
        expected += [
            "encode.alert", "encode.indicator update", "journal.append 64 events, SQLite synchronous FULL",
            "checkpoint.100000 classes written whole: listed, ordered, encoded",
        ]
        for name in expected {
            let found = timed.first { $0.key == name || $0.key.hasPrefix(name + " (") }
            #expect(found != nil, "no benchmark \(name) in \(timed.keys.sorted())")
            #expect((found?.value ?? 0) > 0, "\(name) took no time")
        }
    }

    /// An operator acknowledges with `planwatch ack`, the daemon is killed, and the alert, its
    /// acknowledgement and its history are all still there after the restart.
    @Test func ackAndHistorySurviveAKill() throws {
        let dir = TemporaryDirectory()
        let journal = dir.path + "/j.sqlite"
        // An operator of the web config, made the way the README says.
        let password = ["PLANWATCH_PASSWORD": "zhangdian-2026"]
        let user = try run(Products.path("planwatch"), ["web-user", "wangmin"], environment: password)
        #expect(user.status == 0, "\(user.stderr)")
        try "basic_auth_users:\n  \(user.stdout)".write(toFile: dir.path + "/web.yml", atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(journal: journal, extraArguments: ["--web-config-file", dir.path + "/web.yml"], logPath: dir.path + "/d1.log")
        let file = dir.path + "/events.jsonl"
        try lines([Fixtures.incident(id: "ack-1", incidentId: "INC-CLI").body]).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try run(Products.path("planwatch"), ["publish", "--ack", file, "--ack-endpoint", daemon.ack]).status == 0)
        let fingerprint = "safety.incident/INC-CLI"
        let wrong = try run(
            Products.path("planwatch"), ["ack", fingerprint, "--http", daemon.http, "--user", "wangmin"],
            environment: ["PLANWATCH_PASSWORD": "guess"])
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("HTTP 401"), "\(wrong.stdout)")
        let ack = try run(
            Products.path("planwatch"), ["ack", fingerprint, "--note", "已派人到校", "--http", daemon.http, "--user", "wangmin"],
            environment: password)
        #expect(ack.status == 0, "\(ack.stdout)\(ack.stderr)")
        #expect(ack.stdout.contains("\"ackedBy\":\"wangmin\""), "\(ack.stdout)")
        let missing = try run(
            Products.path("planwatch"), ["ack", "safety.incident/NONE", "--http", daemon.http, "--user", "wangmin"], environment: password)
        #expect(missing.status == 2)
        #expect(missing.stdout.contains("no alert with fingerprint safety.incident/NONE is firing"))
        try daemon.kill()

        let again = try DaemonProcess(journal: journal, logPath: dir.path + "/d2.log")
        let history = try run(Products.path("planwatch"), ["history", fingerprint, "--json", "--snapshot-endpoint", again.snapshot])
        #expect(history.status == 0, "\(history.stderr)")
        let changes = history.stdout.split(separator: "\n").compactMap { Fixtures.object(Array($0.utf8)) }
        #expect(changes.map { $0["change"] } == [.string("fired"), .string("acknowledged")])
        #expect(changes.last?["by"] == .string("wangmin"))
        let snapshot = try run(
            Products.path("planwatch"),
            ["tail", "alert.", "--snapshot", "--json", "--count", "1", "--seconds", "60", "--output-endpoint", again.publish,
             "--snapshot-endpoint", again.snapshot])
        #expect(snapshot.stdout.contains("\"ackedBy\":\"wangmin\""), "\(snapshot.stdout)")
        #expect(try again.terminate() == 0)
        // Offline, from the journal itself.
        let offline = try run(Products.path("planwatch"), ["history", fingerprint, "--journal", journal])
        #expect(offline.stdout.contains("acknowledged") && offline.stdout.contains("已派人到校"), "\(offline.stdout)")
    }

    @Test func checkCalendarSaysWhatIsWrongAndWhere() throws {
        let dir = TemporaryDirectory()
        let bad = dir.path + "/cn-2027.yaml"
        try "year: 2027\nholidays:\n  - name: 春节\n    from: 2027-02-05\n    to: 2027-02-03\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try run(Products.path("planwatch"), ["check-calendar", bad])
        #expect(result.status == 1)
        #expect(result.stdout.contains("cn-2027.yaml:5:9: holidays[0].to: 2027-02-03 is before 2027-02-05"), "\(result.stdout)")
        let shipped = CalendarPaths.shipped
        let ok = try run(Products.path("planwatch"), ["check-calendar"] + shipped)
        #expect(ok.status == 0, "\(ok.stdout)")
        #expect(ok.stdout.contains("2026, 7 holidays, 248 working days"), "\(ok.stdout)")
    }

    /// The README's `check-plan --plugin-dir var/plugins` before the demo made that folder:
    /// the answer says what is missing and how to make it, not a Foundation error domain.
    @Test func aMissingPluginDirectoryIsNamedWithWhatToPutThere() throws {
        let plan = CalendarPaths.root.path + "/Plans/district-003-2024.yaml"
        let result = try run(Products.path("planwatch"), ["check-plan", "--plugin-dir", "/nonexistent/plugins", plan])
        let said = result.stdout + result.stderr
        #expect(result.status != 0)
        #expect(said.contains("plugin directory /nonexistent/plugins is not a folder"), "\(said)")
        #expect(!said.contains("NSCocoaErrorDomain"), "\(said)")
    }
}

enum CalendarPaths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var shipped: [String] { ["cn-2020.yaml", "cn-2021.yaml", "cn-2025.yaml", "cn-2026.yaml"].map { root.path + "/Plans/calendar/" + $0 } }
}
