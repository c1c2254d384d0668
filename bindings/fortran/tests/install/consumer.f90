! consumer.f90: a user's Fortran program built against the installed module ppool: maps a
! bind(C) function over integer and real(8) arrays, exact results, plainly and under mpirun.
module consumer_tasks
  use, intrinsic :: iso_c_binding
  use ppool, only: ppool_task_return
  implicit none
contains
  integer(c_int) function square(task, x, len) bind(C)
    type(c_ptr), value :: task
    integer(c_int), intent(in) :: x
    integer(c_size_t), value :: len
    square = ppool_task_return(task, x * x)
  end function

  integer(c_int) function root(task, x, len) bind(C)
    type(c_ptr), value :: task
    real(c_double), intent(in) :: x
    integer(c_size_t), value :: len
    root = ppool_task_return(task, sqrt(x))
  end function
end module consumer_tasks

program consumer
  use, intrinsic :: iso_c_binding
  use ppool
  use consumer_tasks
  implicit none
  integer, parameter :: n = 10000
  type(ppool_pool) :: pool
  integer(c_int) :: in(n), out(n), rc, i
  real(c_double) :: x(n), y(n)

  if (ppool_register("square", c_funloc(square)) /= 0) error stop "register square"
  if (ppool_register("root", c_funloc(root)) /= 0) error stop "register root"
  rc = ppool_open(pool)
  if (rc == PPOOL_WORKER) stop
  if (rc /= 0) error stop "ppool_open: "//ppool_errmsg()
  in = [(i, i = 1, n)]
  rc = ppool_map(pool, "square", in, out)
  if (rc /= 0) error stop ppool_errname(rc)//": "//ppool_errmsg(pool)
  if (any(out /= in * in)) error stop "wrong squares"
  x = real(in, c_double)**2
  rc = ppool_map(pool, "root", x, y)
  if (rc /= 0) error stop ppool_errname(rc)//": "//ppool_errmsg(pool)
  if (any(y /= real(in, c_double))) error stop "wrong roots"
  print '("consumer.f90: ", i0, " squares and roots exact on ", i0, " ", a, " workers, ppool ", a)', &
    n, ppool_size(pool), ppool_transport(pool), ppool_version()
  rc = ppool_close(pool)
  rc = ppool_join(pool)
  call ppool_free(pool)
end program consumer
