import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Gives the calling thread the name `top -H`, `ps -L`, perf and gdb show: Linux keeps its
/// first 15 bytes. Not `Thread.name`: set before start, Foundation on
/// Linux keeps it on the object only, and set on the new thread it is lost when the thread runs
/// before its starter has recorded it (seen under load: a thread kept its maker's name).
/// `pthread_setname_np` is not visible to Swift; /proc/thread-self/comm is the same name.
package func nameThisThread(_ name: String) {
    #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = name.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    #endif
}
