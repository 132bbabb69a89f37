import Foundation
import Synchronization

/// Lets a starting thread report, once, that it is ready or why it failed.
final class StartupSignal<Value: Sendable>: Sendable {
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
