// cmd_doctor.h — `tlsdiag doctor`: which configuration file and line breaks CloudFront's
// handshake (cmd_doctor.c: options and printing; the work is in doctor/).
#ifndef TLSDIAG_CMD_DOCTOR_H
#define TLSDIAG_CMD_DOCTOR_H

// cli_cmd_doctor runs `tlsdiag doctor` (argv[0] is "doctor") and returns the exit status.
int cli_cmd_doctor(int argc, char **argv) __attribute__((warn_unused_result));

#endif
