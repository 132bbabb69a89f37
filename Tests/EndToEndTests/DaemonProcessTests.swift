import Foundation
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// `planwatchd` as its users run it: a subprocess, signals, configuration files, restarts.
@Suite struct DaemonProcessTests {
    @Test func sigtermDrainsWhatWasAcceptedAndExitsZero() throws {
        let dir = TemporaryDirectory()
        let journal = dir.path + "/journal.sqlite"
        let peer = Peer()
        let daemon = try DaemonProcess(journal: journal, logPath: dir.path + "/d1.log")
        let dealer = try peer.dealer(to: daemon.ack)
        let count = 300
        for i in 0..<count {
            let m = Fixtures.incident(id: "term-\(i)", incidentId: "INC-T\(i)")
            try dealer.send([m.topic, m.body])
        }
        // Stop while replies are still coming.
        _ = try #require(try dealer.receive(within: 30))
        #expect(try daemon.terminate() == 0)
        var acknowledged = Set<String>()
        while let reply = try dealer.receive(within: 0.5) {
            if String(decoding: reply[0], as: UTF8.self) == "ok" { acknowledged.insert(String(decoding: reply[1], as: UTF8.self)) }
        }
        #expect(daemon.log.contains("pipeline stopped"))
        dealer.close()

        let again = try DaemonProcess(journal: journal, logPath: dir.path + "/d2.log")
        let dealer2 = try peer.dealer(to: again.ack)
        var duplicates = 0
        for i in 0..<count {
            let m = Fixtures.incident(id: "term-\(i)", incidentId: "INC-T\(i)")
            let reply = try peer.ack(dealer2, m)
            if reply[0] == "duplicate" { duplicates += 1 }
            if acknowledged.contains("term-\(i)") { #expect(reply[0] == "duplicate", "term-\(i) was acknowledged but lost") }
        }
        #expect(duplicates >= acknowledged.count)
        #expect(try again.terminate() == 0)
    }

    @Test func helpDocumentsEveryOption() throws {
        let result = try run(Products.path("planwatchd"), ["--help"])
        #expect(result.status == 0)
        for option in ["--config", "--log-level", "--journal", "--ingest-bind", "--ingest-connect", "--ingest-topic", "--ack-bind",
            "--publish-bind", "--plan", "--tick-interval-ms", "SIGTERM"]
        {
            #expect(result.stdout.contains(option), "\(option) missing from --help")
        }
    }

    @Test func misspeltConfigKeyIsAClearError() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/planwatchd.yaml"
        try "ingest:\n  bnd: [\"tcp://127.0.0.1:5999\"]\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try run(Products.path("planwatchd"), ["--config", path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown key 'ingest.bnd'"), "\(result.stderr)")
    }

    @Test func configFileIsReadAndFlagsOverrideIt() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/planwatchd.yaml"
        let filePublish = "tcp://127.0.0.1:\(FreePort.next())"
        try """
            logLevel: info
            storage:
              path: \(dir.path)/from-file.sqlite
            publish:
              bind: ["\(filePublish)"]
            ack:
              bind: ["tcp://127.0.0.1:1"]
            """.write(toFile: path, atomically: true, encoding: .utf8)
        // The file's ack endpoint (port 1) would fail; the flag overrides it.
        let daemon = try DaemonProcess(
            journal: dir.path + "/from-flag.sqlite", extraArguments: ["--config", path, "--publish-bind", filePublish],
            logPath: dir.path + "/d.log")
        #expect(daemon.log.contains(filePublish))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/from-flag.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/from-file.sqlite"))
        #expect(try daemon.terminate() == 0)
    }

    /// Each part binds on its own thread (ingest: ingest and ack; the output thread: publish;
    /// the snapshot server): a taken endpoint fails the start with it named, and the parts
    /// already started stop, so that the daemon exits.
    @Test(arguments: ["--ingest-bind", "--ack-bind", "--publish-bind", "--snapshot-bind"])
    func endpointInUseFailsTheStartWithTheEndpointNamed(_ flag: String) throws {
        let dir = TemporaryDirectory()
        let context = ZMQContext()
        let blocker = try ZMQSocket(context: context, type: .pub)
        try blocker.bind("tcp://127.0.0.1:*")
        let taken = blocker.lastEndpoint
        var arguments = ["--journal", dir.path + "/j.sqlite", "--http-bind", "off"]
        for endpoint in ["--ingest-bind", "--ack-bind", "--publish-bind", "--snapshot-bind"] {
            arguments += [endpoint, endpoint == flag ? taken : "tcp://127.0.0.1:*"]
        }
        let result = try run(Products.path("planwatchd"), arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains("bind \(taken)"), "\(result.stderr)")
    }

    /// An operator's `top -H` or perf tells the parts apart (docs/operations.md): each names
    /// its OS thread. They were all "oot.default-qos" (the pool thread that started them). The
    /// checkpoint writer runs 10 steps of nice below the rest, so that under load the events
    /// go first (with SQLite, whose checkpoints do not hold what appends need).
    @Test func eachPartsThreadCarriesItsName() throws {
        let dir = TemporaryDirectory()
        let daemon = try DaemonProcess(journal: dir.path + "/j.sqlite", logPath: dir.path + "/d.log")
        let tasks = "/proc/\(daemon.process.processIdentifier)/task"
        // comm → nice (the 19th field of stat, counted after the name's closing parenthesis).
        func threads() -> [String: String] {
            var nice: [String: String] = [:]
            for task in (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? [] {
                guard let comm = try? String(contentsOfFile: "\(tasks)/\(task)/comm", encoding: .utf8),
                    let stat = try? String(contentsOfFile: "\(tasks)/\(task)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                nice[comm.trimmingCharacters(in: .whitespacesAndNewlines)] = fields.count > 16 ? String(fields[16]) : "?"
            }
            return nice
        }
        let parts: Set = ["pw-ingest", "pw-pipeline", "pw-output", "pw-snapshot", "pw-checkpoint"]
        // A thread names itself once it runs, which on a loaded machine may be after "ready".
        _ = Wait.until(seconds: 30) { Set(threads().keys).isSuperset(of: parts) }
        let nice = threads()
        #expect(Set(nice.keys).isSuperset(of: parts), "\(nice)")
        // Relative: the suite may itself run under nice.
        let pipeline = try #require(nice["pw-pipeline"].flatMap { Int($0) }, "\(nice)")
        #expect(nice["pw-checkpoint"] == String(min(pipeline + 10, 19)), "\(nice)")
        #expect(try daemon.terminate() == 0)
    }

    @Test func rulesInTheConfigSetOwnersAndAreChecked() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/planwatchd.yaml"
        try """
            rules:
              safety.incident:
                owner: district
                ackWithin: 4 hours
              safety.incident_overdue:
                deadlines:
                  yellowBlue: 2 workingDays
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(journal: dir.path + "/j.sqlite", extraArguments: ["--config", path], logPath: dir.path + "/d.log")
        let peer = Peer()
        let sub = try peer.subscriber(to: daemon.publish, prefixes: ["alert.safety"], probeAck: daemon.ack)
        #expect(try peer.ack(try peer.dealer(to: daemon.ack), Fixtures.incident(id: "r-1", incidentId: "INC-RULE"))[0] == "ok")
        let alert = try #require(try sub.receive(within: 30) { Published($0)?.string("fingerprint") == "safety.incident/INC-RULE" })
        #expect(Published(alert)?.string("owner") == "district:370303")
        #expect(try daemon.terminate() == 0)

        for (yaml, message) in [
            ("rules:\n  safety.incident:\n    ackWithin: 4 weeks\n", "rules.safety.incident.ackWithin: '4 weeks' is not a duration"),
            ("rules:\n  safety.incident:\n    owner: province\n", "rules.safety.incident.owner: 'province' is not school, district or city"),
            ("rules:\n  safety.incident_overdue:\n    deadlines:\n      redorange: 1 hours\n",
             "safety.incident_overdue has no such deadline (it has: redOrange, yellowBlue)"),
            ("rules:\n  safety.incident:\n    ackwithin: 4 hours\n", "unknown key 'rules.safety.incident.ackwithin'"),
        ] {
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try run(Products.path("planwatchd"), ["--config", path, "--journal", dir.path + "/bad.sqlite", "--http-bind", "off"])
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }

    /// The suite's own way of running a command (replay, check-config, the CLI) must not hang on
    /// a command that writes more to stderr than a pipe holds before it ends its stdout.
    @Test func runningACommandThatLogsALotToStderrReturnsBothOutputs() throws {
        let result = try run("/bin/sh", ["-c", "head -c 300000 /dev/zero | tr '\\0' x >&2; echo done"], timeout: 60)
        #expect(result.status == 0 && result.stdout == "done\n" && result.stderr.count == 300_000)
    }
}
