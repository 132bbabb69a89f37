import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The built executables next to the test binary (`.build/<triple>/debug`).
public enum Products {
    public static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["PLANWATCH_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent()
    }

    public static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// Runs a command to completion and returns its exit status and output.
public func run(
    _ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], timeout: Double = 120
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    // Both pipes drained at once: a child that writes more than a pipe holds (64 KiB) to the
    // one not being read blocks for ever (a replay logging a handler's every throw did).
    let errData = Mutex(Data())
    let draining = DispatchGroup()
    DispatchQueue.global().async(group: draining) {
        let data = err.fileHandleForReading.readDataToEndOfFile()
        errData.withLock { $0 = data }
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    draining.wait()
    guard Wait.until(seconds: timeout, { !process.isRunning }) else {
        process.terminate()
        throw TestFailure("\(executable) did not finish within \(timeout) s")
    }
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.withLock { $0 }, as: UTF8.self))
}

/// `planwatchd` as a subprocess on free loopback ports, with its log in a file.
public final class DaemonProcess {
    public let process = Process()
    public let ingest: String
    public let ack: String
    public let publish: String
    public let snapshot: String
    /// The HTTP endpoint, `http://127.0.0.1:PORT`.
    public let http: String
    public let logPath: String

    /// Starts `planwatchd`; `endpoints` (ingest, ack, publish) reuses a stopped daemon's ports.
    /// With `waitForReady: false` it returns once the process runs (a standby, say); call
    /// ``waitUntilReady(seconds:)`` later.
    public init(
        journal: String, extraArguments: [String] = [], logPath: String, endpoints: (String, String, String)? = nil,
        waitForReady: Bool = true
    ) throws {
        ingest = endpoints?.0 ?? "tcp://127.0.0.1:\(FreePort.next())"
        ack = endpoints?.1 ?? "tcp://127.0.0.1:\(FreePort.next())"
        publish = endpoints?.2 ?? "tcp://127.0.0.1:\(FreePort.next())"
        snapshot = "tcp://127.0.0.1:\(FreePort.next())"
        let httpPort = FreePort.next()
        http = "http://127.0.0.1:\(httpPort)"
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        process.executableURL = URL(fileURLWithPath: Products.path("planwatchd"))
        process.arguments =
            [
                "--journal", journal, "--ingest-bind", ingest, "--ack-bind", ack, "--publish-bind", publish, "--snapshot-bind", snapshot, "--http-bind", "127.0.0.1:\(httpPort)",
                "--log-level", "info",
            ] + extraArguments
        process.standardError = log
        process.standardOutput = log
        started = Date()
        try process.run()
        if waitForReady { try waitUntilReady(seconds: 60) }
    }

    private let started: Date

    /// Waits until the daemon logs that it is ready (journal recovered, sockets bound).
    public func waitUntilReady(seconds: Double) throws {
        guard Wait.until(seconds: seconds, { self.log.contains("planwatchd ready") || !process.isRunning }),
            process.isRunning
        else {
            throw TestFailure("planwatchd did not start:\n\(self.log)")
        }
        secondsToReady = Date().timeIntervalSince(started)
    }

    /// From spawn to "planwatchd ready" (journal recovered, sockets bound).
    public private(set) var secondsToReady: Double = 0

    /// The endpoints, to start another daemon on the same ports.
    public var endpoints: (String, String, String) { (ingest, ack, publish) }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// What the HTTP endpoint answers at `path`: its body, whatever its status (`/readyz`
    /// answers 503 with the reasons).
    public func httpBody(_ path: String) throws -> String {
        let done = DispatchSemaphore(value: 0)
        let body = Mutex<String?>(nil)
        URLSession.shared.dataTask(with: URL(string: http + path)!) { data, _, _ in
            body.withLock { $0 = data.map { String(decoding: $0, as: UTF8.self) } }
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 30) == .success, let answer = body.withLock({ $0 }) else {
            throw TestFailure("no answer from \(http + path)")
        }
        return answer
    }

    /// The first series on `/metrics` whose line starts with `series` (its name, with labels
    /// if given), as a number; 0 when there is none or no answer.
    public func metric(_ series: String) -> Double {
        guard let text = try? httpBody("/metrics") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(series) {
            return Double(line.split(separator: " ").last ?? "0") ?? 0
        }
        return 0
    }

    /// The log's last `characters`, for a failure's message; if the daemon crashed, first why
    /// and the crashed thread's frames, which the rest of a backtrace pushes out of any tail
    /// (a failure once showed only the last threads' frames of a crash in the journal).
    public func logEnd(_ characters: Int) -> String {
        let text = log
        var crash = ""
        for marker in ["Fatal error", "Program crashed", "Assertion failed", "Precondition failed"] {
            if let line = text.range(of: marker).map({ text.lineRange(for: $0) }) {
                crash += text[line]
                break
            }
        }
        if let thread = text.range(of: #"Thread \d+[^\n]* crashed:"#, options: .regularExpression) {
            crash += text[text.lineRange(for: thread).lowerBound...].prefix(2_500) + "\n…\n"
        }
        return (crash.isEmpty ? "" : "the daemon crashed: " + crash) + String(text.suffix(characters))
    }

    /// Sends SIGTERM and waits for the exit status.
    public func terminate(timeout: Double = 60) throws -> Int32 {
        process.terminate()
        return try waitForExit(timeout: timeout)
    }

    /// Sends SIGKILL and waits for the process to be gone.
    public func kill() throws {
        Foundation.kill(process.processIdentifier, SIGKILL)
        _ = try waitForExit(timeout: 60)
    }

    public func waitForExit(timeout: Double) throws -> Int32 {
        guard Wait.until(seconds: timeout, { !process.isRunning }) else {
            throw TestFailure("planwatchd did not exit within \(timeout) s")
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
