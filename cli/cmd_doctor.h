// cmd_doctor.h — `tlsdiag doctor`: which configuration file and line breaks CloudFront's
// handshake (cmd_doctor.c: options and printing; the work is in doctor/).
#ifndef TLSDIAG_CMD_DOCTOR_H
#define TLSDIAG_CMD_DOCTOR_H

// cli_cmd_doctor runs `tlsdiag doctor` (argv[0] is "doctor") and returns the exit status.
int cli_cmd_doctor(int argc, char **argv) __attribute__((warn_unused_result));

// analyze --doctor: the doctor's report on the configurations o->doctor names (each file's
// server guessed by doctor_guess), judged with the run's analyzer; NULL when no --doctor was
// given. *status gets TLSDIAG_EXIT_INPUT (after a message on stderr) when a file cannot be
// used. Free with doctor_report_free.
struct doctor_report;
struct analyzer;
struct cli_options;
struct doctor_report *cli_doctor_load(const struct cli_options *o, struct analyzer *an,
                                      int *status);

#endif
