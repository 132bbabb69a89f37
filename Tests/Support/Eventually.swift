import Foundation
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

/// Free TCP ports on loopback, found by binding port 0.
public enum FreePort {
    public static func next() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
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
}
