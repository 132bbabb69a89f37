import Foundation
import Synchronization
import ZeroMQ

/// Test helpers: every wait is on a condition with a deadline, never a fixed sleep.
public enum Wait {
    /// Polls `condition` every few milliseconds until it holds or `seconds` pass.
    public static func until(seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return try condition()
    }

    /// The same for async tests: suspends between polls instead of blocking a thread of the
    /// cooperative pool, which the task being waited for may need.
    public static func suspendingUntil(seconds: Double = 20, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try condition()
    }
}

extension ZMQSocket {
    /// The next message, waiting at most `seconds`; nil if none came.
    public func receive(within seconds: Double) throws -> [[UInt8]]? {
        var poller = Poller()
        poller.add(self)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let left = max(1, Int(deadline.timeIntervalSinceNow * 1000))
            if try poller.poll(timeoutMilliseconds: min(left, 200))[0], let message = try receive(wait: false) {
                return message
            }
        }
        return nil
    }

    /// Messages until one satisfies `match`, within `seconds`; nil if none did.
    public func receive(within seconds: Double, where match: ([[UInt8]]) -> Bool) throws -> [[UInt8]]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let message = try receive(within: deadline.timeIntervalSinceNow) else { return nil }
            if match(message) { return message }
        }
        return nil
    }
}

/// A temporary directory removed when the value goes.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "planwatch-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Loopback ports for daemons under test. Not from the kernel's ephemeral range (port 0):
/// between choosing such a port and the daemon binding it, the kernel may give it to any
/// outgoing connection of the busy test process (a daemon once failed to start on "Address
/// already in use" that way). Below that range, from a counter that starts at a random place,
/// each port checked free when it is handed out.
public enum FreePort {
    private static let counter = Mutex(Int.random(in: 0..<5000))

    public static func next() -> Int {
        let (low, high) = (20_000, ephemeralLow)
        for _ in 0..<(high - low) {
            let port = low + counter.withLock { n in
                defer { n = (n + 1) % (high - low) }
                return n
            }
            if isFree(port) { return port }
        }
        preconditionFailure("no free loopback port from \(low) to \(high)")
    }

    /// The first port of the kernel's ephemeral range (32768 unless configured otherwise).
    private static let ephemeralLow: Int = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }.map { min(max($0, 21_000), 65_535) } ?? 32_768
    }()

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
