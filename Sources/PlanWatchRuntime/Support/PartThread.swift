import Foundation
import Synchronization
import ZeroMQ

/// One part of the runtime on a thread of its own — ingest, pipeline, output, snapshot server:
/// the thread makes the part (which binds or connects its sockets there: DESIGN.md, a socket
/// is made and used by one thread), says it is ready or why it could not be made, then runs it.
enum PartThread {
    /// Starts the thread `name`: it makes the part with `make`, reports what `ready` says of it
    /// (the endpoints it bound), then runs it with `run`, and leaves `group` when it ends,
    /// whichever way. Returns once the part is made; throws what `make` threw.
    ///
    /// The thread names itself (``nameThisThread(_:)``), as `top -H`, `ps -L`, perf and gdb
    /// show it.
    static func start<Part, Ready: Sendable>(
        _ name: String, group: DispatchGroup,
        make: @escaping @Sendable () throws -> Part,
        ready: @escaping @Sendable (Part) -> Ready,
        run: @escaping @Sendable (Part) -> Void
    ) throws -> Ready {
        let signal = StartupSignal<Ready>()
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            nameThisThread(name)
            let part: Part
            do { part = try make() } catch {
                signal.fail(error)
                return
            }
            signal.succeed(ready(part))
            run(part)
        }
        thread.start()
        return try signal.wait()
    }
}

/// Lets a starting thread report, once, that it is ready or why it failed.
private final class StartupSignal<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let semaphore = DispatchSemaphore(value: 0)

    func succeed(_ value: Value) {
        result.withLock { $0 = .success(value) }
        semaphore.signal()
    }

    func fail(_ error: any Error) {
        result.withLock { $0 = .failure(error) }
        semaphore.signal()
    }

    func wait() throws -> Value {
        semaphore.wait()
        return try result.withLock { $0! }.get()
    }
}
