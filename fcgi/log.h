/* One line per event on stderr (lighttpd forwards a FastCGI child's stderr to its
 * error log), written with a single write(2) so lines from threads never interleave. */
#ifndef FCGI_LOG_H
#define FCGI_LOG_H

void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
